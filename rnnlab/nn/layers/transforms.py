"""Fixed input standardization and the inverse (transpose) of a layer.

:func:`standardize` subtracts a fixed offset and divides by a fixed scale (statistics of the
training data, say) with a :class:`~rnnlab.nn.layers.BiasLayer` and a
:class:`~rnnlab.nn.layers.ScaleLayer` whose parameters are not trainable.
:class:`InverseLayer` back-propagates its input through another layer: for a dense layer this is
the tied-weight transpose used by autoencoders.
"""

import pytensor
from pytensor.graph.basic import Variable

from .. import utils
from .base import Layer, MergeLayer
from .special import BiasLayer, ScaleLayer

__all__ = ["standardize", "InverseLayer"]


def _negated(offset):
    if isinstance(offset, Variable):
        return -offset
    return -utils.floatX(offset)


def _reciprocal(scale):
    if isinstance(scale, Variable):
        return 1.0 / scale
    return utils.floatX(1.0 / utils.floatX(scale))


def standardize(layer, offset, scale, shared_axes="auto"):
    """Standardize the input with a fixed offset and scale: ``(x - offset) / scale``.

    Parameters
    ----------
    layer : Layer or tuple
        The layer feeding the standardization, or the expected input shape.
    offset : numpy.ndarray, shared variable or expression
        Subtracted; shaped as the input without ``shared_axes``.
    scale : numpy.ndarray, shared variable or expression
        Divides; same shape as ``offset``.
    shared_axes : 'auto', int or tuple of int
        Axes the offset and scale are shared (broadcast) over; ``'auto'``: all but axis 1.

    Returns
    -------
    ScaleLayer
        Fed by a :class:`~rnnlab.nn.layers.BiasLayer` holding ``-offset``, itself fed by
        ``layer``; same output shape as ``layer``.  Both parameters lack the ``trainable`` tag
        (and are not ``regularizable``), so training leaves them alone.

    Notes
    -----
    Arrays are converted to ``floatX``; a shared variable given as ``offset`` or ``scale``
    stays live (its later values are used), wrapped in ``-offset`` and ``1 / scale``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_all_params, get_output
    >>> from rnnlab.nn.layers.transforms import standardize
    >>> data = np.array([[1., 10.], [3., 30.]])
    >>> l_in = InputLayer((None, 2))
    >>> l_std = standardize(l_in, data.mean(axis=0), data.std(axis=0), shared_axes=0)
    >>> l_std.output_shape, get_all_params(l_std, trainable=True)
    ((None, 2), [])
    >>> get_output(l_std, data).eval().tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    layer = BiasLayer(layer, _negated(offset), shared_axes)
    layer.params[layer.b].discard("trainable")
    layer = ScaleLayer(layer, _reciprocal(scale), shared_axes)
    layer.params[layer.scales].discard("trainable")
    return layer


class InverseLayer(MergeLayer):
    """Back-propagate the input through ``layer``: the gradient of its output w.r.t. its input.

    The output is ``J^T v`` where ``v`` is this layer's input (shaped as ``layer``'s output) and
    ``J`` the Jacobian of ``layer``'s output with respect to ``layer``'s input, evaluated at the
    network's current input.  For a :class:`~rnnlab.nn.layers.DenseLayer` without
    nonlinearity this is ``v @ W.T`` (the transposed, tied-weight layer of an autoencoder); a
    nonlinearity contributes its derivative, a bias nothing.

    Parameters
    ----------
    incoming : Layer or tuple
        Input shaped as ``layer.output_shape``.
    layer : Layer
        The layer to invert; it must have an incoming layer (not a shape) and a single input.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.MergeLayer` (``name``).

    Attributes
    ----------
    input_layers : list of Layer
        ``[incoming, layer, layer.input_layer]``, as in Lasagne.

    Raises
    ------
    TypeError
        If ``layer`` is not a single-input :class:`~rnnlab.nn.layers.Layer`.
    ValueError
        If ``layer`` was created from a shape rather than an incoming layer.

    Notes
    -----
    The output has the shape of ``layer``'s input, ``layer.input_shape``.  Computing it builds
    the graph of ``layer``'s output too, so :func:`~rnnlab.nn.layers.get_output` needs the
    inputs of ``layer`` as well.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_output
    >>> from rnnlab.nn.layers.transforms import InverseLayer
    >>> l_in = InputLayer((None, 3))
    >>> W = np.arange(6.).reshape(3, 2)
    >>> l_enc = DenseLayer(l_in, 2, W=W, nonlinearity=None)
    >>> l_dec = InverseLayer(l_enc, l_enc)
    >>> l_dec.output_shape
    (None, 3)
    >>> x = np.ones((1, 3))
    >>> get_output(l_dec, x).eval().tolist() == (x @ W @ W.T).tolist()
    True
    """

    def __init__(self, incoming, layer, **kwargs):
        if not isinstance(layer, Layer) or isinstance(layer, MergeLayer):
            raise TypeError(f"InverseLayer: layer={layer!r}; expected a single-input Layer")
        if layer.input_layer is None:
            raise ValueError(f"InverseLayer: layer {layer!r} was created from a shape, not an "
                             "incoming layer, so there is nothing to take the gradient for")
        super().__init__([incoming, layer, layer.input_layer], **kwargs)

    def get_output_shape_for(self, input_shapes):
        """Return the shape of the inverted layer's input, ``input_shapes[2]``.

        Parameters
        ----------
        input_shapes : list of tuple
            Shapes of ``[incoming, layer, layer.input_layer]``.

        Returns
        -------
        tuple
        """
        return input_shapes[2]

    def get_output_for(self, inputs, **kwargs):
        """Return ``grad(layer_out, layer_in)`` applied to the incoming values.

        Parameters
        ----------
        inputs : list of Variable
            ``[input, layer_out, layer_in]``: this layer's input, the inverted layer's output and
            that layer's input.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shaped as ``layer_in``.
        """
        input, layer_out, layer_in = inputs
        return pytensor.grad(None, wrt=layer_in, known_grads={layer_out: input})
