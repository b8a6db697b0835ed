"""Small elementwise layers: nonlinearity, bias, scale and an arbitrary expression."""

import numpy as np
import pytensor
import pytensor.tensor as pt

from .. import init, nonlinearities
from ._arguments import broadcast_over, check_shared_axes
from .base import Layer

__all__ = ["NonlinearityLayer", "BiasLayer", "ScaleLayer", "ExpressionLayer"]


class NonlinearityLayer(Layer):
    """Apply a nonlinearity to the input.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    nonlinearity : callable or None
        ``None`` means identity.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, NonlinearityLayer, get_output
    >>> l_relu = NonlinearityLayer(InputLayer((None, 3)))
    >>> get_output(l_relu, np.array([[-1., 0., 2.]])).eval().tolist()
    [[0.0, 0.0, 2.0]]
    """

    def __init__(self, incoming, nonlinearity=nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        if nonlinearity is not None and not callable(nonlinearity):
            raise TypeError(f"NonlinearityLayer: nonlinearity={nonlinearity!r} is not callable")
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity

    def get_output_for(self, input, **kwargs):
        """Return ``nonlinearity(input)``, same shape.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
        """
        return self.nonlinearity(input)


class _AxisParamLayer(Layer):
    """Shared machinery of :class:`BiasLayer` and :class:`ScaleLayer`: one parameter over the
    axes not in ``shared_axes``, broadcast over the others."""

    def _init_param(self, spec, shared_axes, name):
        self.shared_axes = check_shared_axes(shared_axes, self.input_shape,
                                             type(self).__name__)
        if spec is None:
            return None
        shape = tuple(s for a, s in enumerate(self.input_shape) if a not in self.shared_axes)
        if None in shape:
            raise ValueError(f"{type(self).__name__}: input shape {self.input_shape} has unknown "
                             f"sizes on axes not in shared_axes={self.shared_axes}; they must be "
                             "known")
        return self.add_param(spec, shape, name=name, regularizable=False)

    def _broadcast(self, param, ndim):
        return broadcast_over(param, self.shared_axes, ndim)


class BiasLayer(_AxisParamLayer):
    """Add a learned bias, shared over some axes.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape; sizes on the axes not shared must be known.
    b : initializer, numpy.ndarray, shared variable or None
        The biases, shaped as the input without ``shared_axes``; tagged
        ``regularizable=False``.  ``None`` makes the layer an identity.
    shared_axes : 'auto', int or tuple of int
        Axes the bias is broadcast over.  ``'auto'``: all but axis 1 (one bias per feature or
        channel), i.e. ``(0, 2, 3, ...)``.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Attributes
    ----------
    b : SharedVariable or None
    shared_axes : tuple of int
        Non-negative.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, BiasLayer, get_output
    >>> BiasLayer(InputLayer((None, 3, 10))).b.get_value().shape
    (3,)
    >>> l_b = BiasLayer(InputLayer((None, 3)), b=np.array([1., 2., 3.]))
    >>> get_output(l_b, np.zeros((2, 3))).eval().tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """

    def __init__(self, incoming, b=init.Constant(0), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.b = self._init_param(b, shared_axes, "b")

    def get_output_for(self, input, **kwargs):
        """Return ``input + b`` (``b`` broadcast over ``shared_axes``), same shape.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
        """
        if self.b is None:
            return input
        return input + self._broadcast(self.b, input.ndim)


class ScaleLayer(_AxisParamLayer):
    """Multiply by learned scales, shared over some axes.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape; sizes on the axes not shared must be known.
    scales : initializer, numpy.ndarray or shared variable
        Shaped as the input without ``shared_axes``; tagged ``regularizable=False``.
    shared_axes : 'auto', int or tuple of int
        As for :class:`BiasLayer`.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Attributes
    ----------
    scales : SharedVariable
    shared_axes : tuple of int

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, ScaleLayer
    >>> l_s = ScaleLayer(InputLayer((None, 4, 5)), shared_axes=(0, 1))
    >>> l_s.scales.get_value().shape, l_s.output_shape
    ((5,), (None, 4, 5))
    """

    def __init__(self, incoming, scales=init.Constant(1), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        if scales is None:
            raise ValueError("ScaleLayer: scales=None; expected an initializer, array or "
                             "shared variable")
        self.scales = self._init_param(scales, shared_axes, "scales")

    def get_output_for(self, input, **kwargs):
        """Return ``input * scales`` (broadcast over ``shared_axes``), same shape.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
        """
        return input * self._broadcast(self.scales, input.ndim)


class ExpressionLayer(Layer):
    """Apply an arbitrary function of one tensor.

    Parameters
    ----------
    incoming : Layer or tuple
    function : callable
        ``function(x)`` returns a tensor.
    output_shape : None, tuple, callable or 'auto'
        ``None``: same as the input; a tuple: that shape; a callable: called with the input shape;
        ``'auto'``: inferred by running ``function`` — first from PyTensor's static shapes, else
        by evaluating the output shape on zero arrays with each unknown input size set to 1 and
        then 2 (output sizes that change are reported as ``None``).  ``'auto'`` compiles a small
        function (once per input shape) unless static shapes suffice.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import InputLayer, ExpressionLayer, get_output
    >>> l_in = InputLayer((None, 3, 4))
    >>> ExpressionLayer(l_in, lambda x: x.sum(axis=1), output_shape='auto').output_shape
    (None, 4)
    >>> l_sq = ExpressionLayer(InputLayer((None, 2)), T.sqr)
    >>> l_sq.output_shape, get_output(l_sq, np.array([[2., 3.]])).eval().tolist()
    ((None, 2), [[4.0, 9.0]])
    """

    def __init__(self, incoming, function, output_shape=None, **kwargs):
        super().__init__(incoming, **kwargs)
        if not callable(function):
            raise TypeError(f"ExpressionLayer: function={function!r} is not callable")
        self.function = function
        if output_shape is None or callable(output_shape) or (
                isinstance(output_shape, str) and output_shape == "auto"):
            self._output_shape = output_shape
        elif isinstance(output_shape, (tuple, list)):
            self._output_shape = tuple(output_shape)
        else:
            raise ValueError(f"ExpressionLayer: output_shape={output_shape!r}; expected None, a "
                             "tuple, a callable or 'auto'")
        self._inferred = {}

    def get_output_shape_for(self, input_shape):
        """Return the output shape according to ``output_shape``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
        """
        spec = self._output_shape
        if spec is None:
            return input_shape
        if isinstance(spec, str):
            input_shape = tuple(input_shape)
            if input_shape not in self._inferred:
                self._inferred[input_shape] = self._infer_shape(input_shape)
            return self._inferred[input_shape]
        if callable(spec):
            return tuple(spec(input_shape))
        return spec

    def _infer_shape(self, input_shape):
        x = pt.tensor("x", dtype=pytensor.config.floatX, shape=input_shape)
        out = self.function(x)
        if None not in out.type.shape:
            return tuple(int(s) for s in out.type.shape)
        shape_of = pytensor.function([x], out.shape)
        shapes = []
        for fill in (1, 2):
            dummy = np.zeros([fill if s is None else s for s in input_shape],
                             dtype=pytensor.config.floatX)
            shapes.append(tuple(int(s) for s in shape_of(dummy)))
        return tuple(a if a == b else None for a, b in zip(*shapes))

    def get_output_for(self, input, **kwargs):
        """Return ``function(input)``.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
        """
        return self.function(input)
