"""Normalization layers: local response, batch and per-example standardization (Lasagne's
``lasagne.layers.normalization``, with :class:`StandardizationLayer`, :func:`instance_norm` and
:func:`layer_norm` from Lasagne's development version).

:class:`BatchNormLayer` keeps running averages of the batch statistics in two parameters
(``mean`` and ``inv_std``, tagged ``trainable=False``).  As in Lasagne, a training-mode output
updates them through *default updates*: a function compiled with ``pytensor.function`` from such
an output moves the averages towards the statistics of every batch it is called on, without the
caller passing any ``updates``.
"""

import numbers
import warnings

import pytensor.tensor as pt
from pytensor.compile.ops import deep_copy_op
from pytensor.compile.sharedvalue import SharedVariable

from .. import init, nonlinearities
from ._arguments import broadcast_over
from .base import Layer
from .special import BiasLayer, NonlinearityLayer, ScaleLayer

__all__ = ["LocalResponseNormalization2DLayer", "BatchNormLayer", "batch_norm",
           "StandardizationLayer", "instance_norm", "layer_norm"]


def _normalize_axes(axes, ndim, who, named):
    """Return ``axes`` as a sorted tuple of distinct non-negative axes of an ``ndim``-d input.

    ``named`` maps the accepted strings (``'auto'``, ...) to their axes.
    """
    expected = ", ".join(repr(name) for name in named) + ", an int or a tuple of ints"
    if isinstance(axes, str):
        if axes not in named:
            raise ValueError(f"{who}: axes={axes!r}; expected {expected}")
        return named[axes]
    if isinstance(axes, numbers.Integral):
        axes = (axes,)
    try:
        axes = tuple(axes)
    except TypeError:
        raise ValueError(f"{who}: axes={axes!r}; expected {expected}") from None
    if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
               and -ndim <= a < ndim for a in axes):
        raise ValueError(f"{who}: axes={axes!r} holds an axis outside the {ndim}-dimensional "
                         "input")
    return tuple(sorted({int(a) % ndim for a in axes}))


class LocalResponseNormalization2DLayer(Layer):
    """Cross-channel local response normalization of 2-D feature maps (as in AlexNet).

    Each entry is divided by a power of the sum of squares over ``n`` neighbouring channels at
    the same location: for channel ``i``,

    ``y_i = x_i / (k + alpha * sum_{|j - i| <= n // 2} x_j ** 2) ** beta``

    where channels beyond the edges count as zeros.  The sum is not divided by ``n``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, rows, columns)`` (``bc01`` order).
    alpha : float
        Scale of the sum of squares.
    k : float
        Added to the scaled sum of squares.
    beta : float
        Exponent of the divisor.
    n : int
        Number of channels summed over (the channel itself and ``n // 2`` on each side); odd.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Raises
    ------
    NotImplementedError
        If ``n`` is even (as in Lasagne).
    ValueError
        If the input is not 4-dimensional.

    Notes
    -----
    The output has the input's shape, ``(batch, channels, rows, columns)``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.normalization import LocalResponseNormalization2DLayer
    >>> l_lrn = LocalResponseNormalization2DLayer(InputLayer((None, 3, 1, 1)), alpha=1, k=1,
    ...                                           beta=1, n=3)
    >>> l_lrn.output_shape
    (None, 3, 1, 1)
    >>> x = np.array([1., 2., 0.]).reshape(1, 3, 1, 1)
    >>> get_output(l_lrn, x).eval().ravel().tolist()  # 1 / (1 + 1 + 4), 2 / (1 + 1 + 4 + 0), 0
    [0.1666..., 0.3333..., 0.0]
    """

    def __init__(self, incoming, alpha=1e-4, k=2, beta=0.75, n=5, **kwargs):
        super().__init__(incoming, **kwargs)
        if len(self.input_shape) != 4:
            raise ValueError(f"LocalResponseNormalization2DLayer: input shape "
                             f"{self.input_shape} is not 4-dimensional; expected (batch, "
                             "channels, rows, columns)")
        if not isinstance(n, numbers.Integral) or isinstance(n, bool):
            raise ValueError(f"LocalResponseNormalization2DLayer: n={n!r}; expected a positive "
                             "odd int")
        if n % 2 == 0:
            raise NotImplementedError("Only works with odd n")
        if n < 0:
            raise ValueError(f"LocalResponseNormalization2DLayer: n={n!r}; expected a positive "
                             "odd int")
        self.alpha = alpha
        self.k = k
        self.beta = beta
        self.n = int(n)

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape`` (normalization keeps the shape).

        Parameters
        ----------
        input_shape : tuple
            ``(batch, channels, rows, columns)``.

        Returns
        -------
        tuple
        """
        return input_shape

    def get_output_for(self, input, **kwargs):
        """Normalize ``input`` across channels.

        Parameters
        ----------
        input : tensor
            Shape ``(batch, channels, rows, columns)``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape as ``input``.
        """
        if input.ndim != 4:
            raise ValueError(f"LocalResponseNormalization2DLayer: got a {input.ndim}-d input; "
                             "expected (batch, channels, rows, columns)")
        half = self.n // 2
        squares = pt.sqr(input)
        if half:
            batch, _, rows, columns = input.shape
            edge = pt.zeros((batch, half, rows, columns), dtype=squares.dtype)
            squares = pt.concatenate([edge, squares, edge], axis=1)
        channels = input.shape[1]
        window = sum(squares[:, offset:offset + channels] for offset in range(self.n))
        return input / (self.k + self.alpha * window) ** self.beta


class BatchNormLayer(Layer):
    """Batch normalization: standardize each feature by the statistics of a mini-batch.

    ``y = (x - mean) * inv_std * gamma + beta``, with ``mean`` and ``inv_std = 1 / sqrt(var +
    epsilon)`` computed over ``axes`` (the mini-batch, and the spatial axes of feature maps) and
    ``gamma``, ``beta`` learned per remaining position (one per feature or channel by default).

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape; the sizes on the axes not in ``axes`` must be known.
    axes : 'auto', int or tuple of int
        The axes to normalize over.  ``'auto'``: all but the second, ``(0, 2, 3, ...)``: the
        batch for dense layers, batch and locations for convolutional layers.  Negative axes
        count from the end.
    epsilon : float
        Added to the variance before its square root is taken.
    alpha : float
        Weight of the latest batch in the running averages: ``average = (1 - alpha) * average +
        alpha * batch_statistic``.
    beta : initializer, numpy.ndarray, shared variable or None
        The shift, shaped as the input without ``axes``; tagged ``regularizable=False``.
        ``None``: no shift.
    gamma : initializer, numpy.ndarray, shared variable or None
        The scale, same shape; trainable and regularizable (as in Lasagne).  ``None``: no scale.
    mean : initializer, numpy.ndarray or shared variable
        The running average of the batch means, same shape; tagged ``trainable=False``,
        ``regularizable=False``, ``batch_norm_stat=True``.
    inv_std : initializer, numpy.ndarray or shared variable
        The running average of the batch inverse standard deviations; tagged like ``mean``.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Attributes
    ----------
    axes : tuple of int
        The normalized axes, non-negative and sorted.
    beta, gamma : SharedVariable or None
    mean, inv_std : SharedVariable

    Raises
    ------
    ValueError
        If a size on an axis not normalized over is unknown, or ``axes`` is not valid.

    Notes
    -----
    The output has the input's shape.  Insert the layer between a linear transformation and its
    nonlinearity; :func:`batch_norm` does that to an existing layer.

    Keyword arguments of :func:`~rnnlab.nn.layers.get_output` choose the statistics:

    - ``deterministic=False`` (training, the default): normalize by the batch's own statistics
      and update the running averages.
    - ``deterministic=True`` (evaluation): normalize by the running averages; no update.
    - ``batch_norm_use_averages`` (True: the running averages; False: the batch's statistics) and
      ``batch_norm_update_averages`` (True or False) override ``deterministic``.

    The averages are updated through default updates on copies of ``mean`` and ``inv_std``
    sharing their storage: any function compiled from an output that updates them advances
    them once per call.  Compile evaluation functions from a ``deterministic=True`` output (or
    pass ``batch_norm_update_averages=False``) so that they leave the averages alone.  A
    ``mean`` or ``inv_std`` given as an expression rather than a shared variable is never
    updated.  Normalizing over axes that leave out the batch axis standardizes each example on
    its own; pass both ``batch_norm_*`` options as False then, as no averages are needed.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_output
    >>> from rnnlab.nn.layers.normalization import BatchNormLayer
    >>> l_bn = BatchNormLayer(InputLayer((None, 3, 5, 5)))  # one beta, gamma... per channel
    >>> l_bn.axes, l_bn.gamma.get_value().shape, l_bn.output_shape
    ((0, 2, 3), (3,), (None, 3, 5, 5))
    >>> l_bn = BatchNormLayer(InputLayer((None, 2)), alpha=0.5)
    >>> x = np.array([[1., 10.], [3., 30.]])
    >>> get_output(l_bn, x, deterministic=True).eval().tolist()  # averages: mean 0, inv_std 1
    [[1.0, 10.0], [3.0, 30.0]]
    >>> y_train = get_output(l_bn, x)  # by the batch's statistics, updating the averages
    >>> y_train.eval().round(3).tolist()  # each column to mean 0, variance 1
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> l_bn.mean.get_value().tolist()  # eval compiled and ran it once: half-way to (2, 20)
    [1.0, 10.0]
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1, beta=init.Constant(0),
                 gamma=init.Constant(1), mean=init.Constant(0), inv_std=init.Constant(1),
                 **kwargs):
        super().__init__(incoming, **kwargs)
        ndim = len(self.input_shape)
        self.axes = _normalize_axes(axes, ndim, "BatchNormLayer",
                                    {"auto": (0,) + tuple(range(2, ndim))})
        self.epsilon = epsilon
        self.alpha = alpha
        shape = tuple(size for axis, size in enumerate(self.input_shape) if axis not in self.axes)
        if None in shape:
            raise ValueError(f"BatchNormLayer needs specified input sizes for all axes not "
                             f"normalized over: input shape {self.input_shape}, axes "
                             f"{self.axes}")
        self.beta = (None if beta is None else
                     self.add_param(beta, shape, "beta", trainable=True, regularizable=False))
        self.gamma = (None if gamma is None else
                      self.add_param(gamma, shape, "gamma", trainable=True, regularizable=True))
        self.mean = self.add_param(mean, shape, "mean", trainable=False, regularizable=False,
                                   batch_norm_stat=True)
        self.inv_std = self.add_param(inv_std, shape, "inv_std", trainable=False,
                                      regularizable=False, batch_norm_stat=True)

    def _broadcast(self, param, ndim):
        """``param`` (shaped as the input without ``axes``) broadcastable against the input."""
        return broadcast_over(param, self.axes, ndim)

    def _tracking(self, average, batch_statistic):
        """A storage-sharing copy of ``average`` whose default update moves it towards
        ``batch_statistic`` (``average`` itself if it is not a shared variable)."""
        if not isinstance(average, SharedVariable):
            return None
        # The copy's type has the value's exact static shape: PyTensor wants a default update of
        # exactly the variable's type, and the update inherits a static shape from the batch
        # statistic that it could not shed.
        static = average.type.clone(shape=average.get_value(borrow=True).shape)
        running = type(average)(name=average.name, type=static, value=None, strict=None,
                                container=average.container)
        # A copy of the old average: an in-place update of the shared storage must not change
        # what the output (or another output of the same function) reads.
        update = (1 - self.alpha) * deep_copy_op(running) + self.alpha * batch_statistic
        update = running.type.filter_variable(pt.cast(update, running.dtype),
                                              allow_convert=True)
        # Deprecated in PyTensor in favour of explicit ``updates``, but the only way to keep
        # Lasagne's ``theano.function(inputs, loss, updates=updates)`` updating the averages.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            running.default_update = update
        return running

    def get_output_for(self, input, deterministic=False, batch_norm_use_averages=None,
                       batch_norm_update_averages=None, **kwargs):
        """Normalize ``input`` by the batch's statistics or by the running averages.

        Parameters
        ----------
        input : tensor
            Shaped as ``input_shape``.
        deterministic : bool
            Default for the two options below: True uses the averages and does not update them.
        batch_norm_use_averages : bool or None
            Normalize by the running averages (True) or the batch statistics (False); ``None``:
            ``deterministic``.
        batch_norm_update_averages : bool or None
            Update the running averages (True) or not (False); ``None``: ``not deterministic``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape as ``input``.
        """
        if input.ndim != len(self.input_shape):
            raise ValueError(f"BatchNormLayer: got a {input.ndim}-d input; expected "
                             f"{len(self.input_shape)} dimensions (input shape "
                             f"{self.input_shape})")
        use_averages = (deterministic if batch_norm_use_averages is None
                        else batch_norm_use_averages)
        update_averages = (not deterministic if batch_norm_update_averages is None
                           else batch_norm_update_averages)
        batch_mean = input.mean(self.axes)
        batch_inv_std = pt.reciprocal(pt.sqrt(input.var(self.axes) + self.epsilon))
        mean, inv_std = ((self.mean, self.inv_std) if use_averages
                         else (batch_mean, batch_inv_std))
        if update_averages:
            # The copies enter the output with weight zero so that compiling it applies their
            # default updates.
            for name, average, statistic in (("mean", self.mean, batch_mean),
                                             ("inv_std", self.inv_std, batch_inv_std)):
                running = self._tracking(average, statistic)
                if running is None:
                    continue
                if name == "mean":
                    mean = mean + 0 * running
                else:
                    inv_std = inv_std + 0 * running
        scale = self._broadcast(inv_std, input.ndim)
        if self.gamma is not None:
            scale = scale * self._broadcast(self.gamma, input.ndim)
        output = (input - self._broadcast(mean, input.ndim)) * scale
        if self.beta is not None:
            output = output + self._broadcast(self.beta, input.ndim)
        return output


def _take_nonlinearity_and_bias(layer):
    """Set ``layer``'s nonlinearity to the identity and drop its bias (from its params too);
    return the nonlinearity it had (``None`` if it had none)."""
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        layer.params.pop(layer.b, None)
        layer.b = None
    return nonlinearity


def _derived_name(kwargs, layer, suffix):
    return kwargs.pop("name", None) or (getattr(layer, "name", None) and layer.name + suffix)


def _add_nonlinearity(layer, nonlinearity, name):
    if nonlinearity is None:
        return layer
    return NonlinearityLayer(layer, nonlinearity, name=name and name + "_nonlin")


def batch_norm(layer, **kwargs):
    """Insert batch normalization in front of an existing layer's nonlinearity.

    The layer is modified in place: its nonlinearity is replaced by the identity and its bias
    ``b`` (redundant before a normalization) is removed from it and from its parameters.  A
    :class:`BatchNormLayer` is stacked on it, then a
    :class:`~rnnlab.nn.layers.NonlinearityLayer` with the nonlinearity the layer had (if it had a
    ``nonlinearity`` attribute, even the identity).

    Parameters
    ----------
    layer : Layer
        The layer to normalize; irreversibly modified.
    **kwargs
        Passed to :class:`BatchNormLayer`.  Without a ``name``, the new layers are named
        ``layer.name + '_bn'`` and ``layer.name + '_bn_nonlin'`` when the layer has a name.

    Returns
    -------
    BatchNormLayer or NonlinearityLayer
        The top of the stack, with the shape of ``layer``'s output.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_all_layers
    >>> from rnnlab.nn.layers.normalization import batch_norm
    >>> l_dense = DenseLayer(InputLayer((None, 4)), 3, name='hidden')
    >>> l_out = batch_norm(l_dense)
    >>> [type(l).__name__ for l in get_all_layers(l_out)]
    ['InputLayer', 'DenseLayer', 'BatchNormLayer', 'NonlinearityLayer']
    >>> l_dense.b is None, l_out.name, l_out.output_shape
    (True, 'hidden_bn_nonlin', (None, 3))
    """
    nonlinearity = _take_nonlinearity_and_bias(layer)
    name = _derived_name(kwargs, layer, "_bn")
    layer = BatchNormLayer(layer, name=name, **kwargs)
    return _add_nonlinearity(layer, nonlinearity, name)


class StandardizationLayer(Layer):
    """Standardize the input to zero mean and unit variance over some axes, per example.

    ``y = (x - mean) / sqrt(var + epsilon)`` with ``mean`` and ``var`` computed over ``axes``
    for every position of the other axes.  Unlike :class:`BatchNormLayer` nothing is learned or
    stored, so training and evaluation compute the same; it realizes instance normalization
    (:func:`instance_norm`) and layer normalization (:func:`layer_norm`).

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    axes : 'auto', 'spatial', 'features', int or tuple of int
        The axes to normalize over.  ``'spatial'``: all but the first two (the locations of
        feature maps); ``'features'``: all but the first; ``'auto'`` (the default): axis 1 for
        2-dimensional input (the units of a dense layer), else ``'spatial'``.  Negative axes
        count from the end.
    epsilon : float
        Added to the variance before its square root is taken.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Attributes
    ----------
    axes : tuple of int
        Non-negative and sorted.

    Notes
    -----
    The output has the input's shape.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.normalization import StandardizationLayer
    >>> StandardizationLayer(InputLayer((None, 3, 5, 5))).axes
    (2, 3)
    >>> l_std = StandardizationLayer(InputLayer((None, 2)), epsilon=0)
    >>> get_output(l_std, np.array([[1., 3.], [0., 10.]])).eval().tolist()
    [[-1.0, 1.0], [-1.0, 1.0]]
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, **kwargs):
        super().__init__(incoming, **kwargs)
        ndim = len(self.input_shape)
        spatial = tuple(range(2, ndim))
        self.axes = _normalize_axes(axes, ndim, "StandardizationLayer", {
            "auto": (1,) if ndim == 2 else spatial,
            "spatial": spatial,
            "features": tuple(range(1, ndim))})
        self.epsilon = epsilon

    def get_output_for(self, input, **kwargs):
        """Standardize ``input`` over ``axes``.

        Parameters
        ----------
        input : tensor
            Shaped as ``input_shape``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape as ``input``.
        """
        mean = input.mean(self.axes, keepdims=True)
        std = pt.sqrt(input.var(self.axes, keepdims=True) + self.epsilon)
        return (input - mean) / std


def instance_norm(layer, learn_scale=True, learn_bias=True, **kwargs):
    """Insert instance normalization in front of an existing layer's nonlinearity.

    Like :func:`batch_norm`, the layer loses its nonlinearity and bias; stacked on it come a
    :class:`StandardizationLayer` over the spatial axes (each channel of each example
    standardized on its own), optionally a :class:`~rnnlab.nn.layers.ScaleLayer` and a
    :class:`~rnnlab.nn.layers.BiasLayer` (one scale and bias per channel), and a
    :class:`~rnnlab.nn.layers.NonlinearityLayer` with the layer's nonlinearity.

    Parameters
    ----------
    layer : Layer
        The layer to normalize, output ``(batch, channels, ...)``; irreversibly modified.
    learn_scale : bool
        Add the :class:`~rnnlab.nn.layers.ScaleLayer`.
    learn_bias : bool
        Add the :class:`~rnnlab.nn.layers.BiasLayer`.
    **kwargs
        Passed to :class:`StandardizationLayer` (``epsilon``, ``name``; not ``axes``).  Without a
        ``name``, the new layers are named from ``layer.name + '_in'`` when the layer has a name
        (``'_in'``, ``'_in_scale'``, ``'_in_bias'``, ``'_in_nonlin'``).

    Returns
    -------
    Layer
        The top of the stack, with the shape of ``layer``'s output.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_all_layers
    >>> from rnnlab.nn.layers.normalization import instance_norm
    >>> l_map = DenseLayer(InputLayer((None, 3, 10)), 5, num_leading_axes=2)  # 3 channels
    >>> l_out = instance_norm(l_map, name='norm')
    >>> [type(l).__name__ for l in get_all_layers(l_out)]
    ['InputLayer', 'DenseLayer', 'StandardizationLayer', 'ScaleLayer', 'BiasLayer',
     'NonlinearityLayer']
    >>> l_out.input_layer.b.get_value().shape, l_out.name, l_out.output_shape
    ((3,), 'norm_nonlin', (None, 3, 5))
    """
    nonlinearity = _take_nonlinearity_and_bias(layer)
    name = _derived_name(kwargs, layer, "_in")
    layer = StandardizationLayer(layer, axes="spatial", name=name, **kwargs)
    if learn_scale:
        layer = ScaleLayer(layer, shared_axes="auto", name=name and name + "_scale")
    if learn_bias:
        layer = BiasLayer(layer, shared_axes="auto", name=name and name + "_bias")
    return _add_nonlinearity(layer, nonlinearity, name)


def layer_norm(layer, **kwargs):
    """Insert layer normalization in front of an existing layer's nonlinearity.

    Like :func:`batch_norm`, the layer loses its nonlinearity and bias; stacked on it come a
    :class:`StandardizationLayer` over all but the first axis (each example standardized on its
    own), a :class:`~rnnlab.nn.layers.ScaleLayer` and a :class:`~rnnlab.nn.layers.BiasLayer`
    (one scale and bias per feature or channel) and a
    :class:`~rnnlab.nn.layers.NonlinearityLayer` with the layer's nonlinearity.

    Parameters
    ----------
    layer : Layer
        The layer to normalize, output ``(batch, features, ...)``; irreversibly modified.
    **kwargs
        Passed to :class:`StandardizationLayer` (``epsilon``, ``name``; not ``axes``).  Without a
        ``name``, the new layers are named from ``layer.name + '_ln'`` when the layer has a name.

    Returns
    -------
    Layer
        The top of the stack, with the shape of ``layer``'s output.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_all_layers, get_output
    >>> from rnnlab.nn.layers.normalization import layer_norm
    >>> from rnnlab.nn.nonlinearities import tanh
    >>> l_out = layer_norm(DenseLayer(InputLayer((None, 28)), 64, nonlinearity=tanh))
    >>> [type(l).__name__ for l in get_all_layers(l_out)]
    ['InputLayer', 'DenseLayer', 'StandardizationLayer', 'ScaleLayer', 'BiasLayer',
     'NonlinearityLayer']
    >>> get_output(l_out, np.ones((2, 28))).eval().shape
    (2, 64)
    """
    nonlinearity = _take_nonlinearity_and_bias(layer)
    name = _derived_name(kwargs, layer, "_ln")
    layer = StandardizationLayer(layer, axes="features", name=name, **kwargs)
    layer = ScaleLayer(layer, shared_axes="auto", name=name and name + "_scale")
    layer = BiasLayer(layer, shared_axes="auto", name=name and name + "_bias")
    return _add_nonlinearity(layer, nonlinearity, name)
