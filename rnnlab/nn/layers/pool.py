"""Pooling-family layers that reshape and reduce: global and feature pooling, WTA, upscaling.

These are Lasagne's ``lasagne.layers.pool`` layers that need no pooling op: they are built from
reshapes, reductions, ``repeat`` and ``set_subtensor``, so they run on every PyTensor backend.

The pooling layers that need a windowed pooling op — ``MaxPool1DLayer``, ``MaxPool2DLayer``,
``MaxPool3DLayer``, ``Pool1DLayer``, ``Pool2DLayer``, ``Pool3DLayer`` and
``SpatialPyramidPoolingLayer`` — are absent on purpose: PyTensor has no pooling op (Theano's
``pool_2d`` / ``downsample`` was not carried over), and rnnlab does not emulate one.
"""

import numbers

import pytensor.tensor as pt

from .base import Layer

__all__ = ["GlobalPoolLayer", "FeaturePoolLayer", "FeatureWTALayer", "Upscale1DLayer",
           "Upscale2DLayer", "Upscale3DLayer"]


def _check_pool_size(pool_size, who):
    if isinstance(pool_size, bool) or not isinstance(pool_size, numbers.Integral) or (
            pool_size < 1):
        raise ValueError(f"{who}: pool_size={pool_size!r}; expected a positive int")
    return int(pool_size)


def _check_feature_axis(layer, pool_size, axis, what):
    """Validate ``pool_size`` and ``axis``; return them (the axis made non-negative)."""
    who = type(layer).__name__
    pool_size = _check_pool_size(pool_size, who)
    ndim = len(layer.input_shape)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not (
            -ndim <= axis < ndim):
        raise ValueError(f"{who}: axis={axis!r} is not an axis of the {ndim}-dimensional input "
                         f"shape {layer.input_shape}")
    axis = int(axis) % ndim
    size = layer.input_shape[axis]
    if size is not None and size % pool_size != 0:
        raise ValueError(f"{who}: number of input feature maps ({size}) is not a multiple of "
                         f"the {what} size (pool_size={pool_size})")
    return pool_size, axis


def _grouped(input, axis, pool_size):
    """Reshape ``input`` so that ``axis`` becomes ``(size // pool_size, pool_size)``."""
    shape = [input.shape[a] for a in range(input.ndim)]
    shape[axis:axis + 1] = [shape[axis] // pool_size, pool_size]
    return input.reshape(shape, ndim=input.ndim + 1)


class GlobalPoolLayer(Layer):
    """Pool over all trailing axes after the second (global average pooling by default).

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, d1, d2, ...)``, at least 3 dimensions.
    pool_function : callable
        Called as ``pool_function(x, axis=2)`` on the input flattened to
        ``(batch, channels, d1 * d2 * ...)``; e.g. ``T.mean`` (the default), ``T.max``,
        ``T.sum``.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Raises
    ------
    ValueError
        If the input has fewer than 3 dimensions.

    Notes
    -----
    The output has shape ``(batch, channels)``.

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.pool import GlobalPoolLayer
    >>> l_pool = GlobalPoolLayer(InputLayer((None, 2, 3, 4)))
    >>> l_pool.output_shape
    (None, 2)
    >>> x = np.arange(2 * 2 * 3 * 4, dtype=float).reshape(2, 2, 3, 4)
    >>> get_output(l_pool, x).eval().tolist()
    [[5.5, 17.5], [29.5, 41.5]]
    >>> get_output(GlobalPoolLayer(InputLayer((2, 2, 3, 4)), T.max), x).eval().tolist()
    [[11.0, 23.0], [35.0, 47.0]]
    """

    def __init__(self, incoming, pool_function=pt.mean, **kwargs):
        super().__init__(incoming, **kwargs)
        if len(self.input_shape) < 3:
            raise ValueError(f"GlobalPoolLayer: input shape {self.input_shape} has "
                             f"{len(self.input_shape)} dimensions; expected at least 3 "
                             "(batch, channels, d1, ...)")
        if not callable(pool_function):
            raise TypeError(f"GlobalPoolLayer: pool_function={pool_function!r} is not callable")
        self.pool_function = pool_function

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape[:2]``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            ``(batch, channels)``.
        """
        return tuple(input_shape[:2])

    def get_output_for(self, input, **kwargs):
        """Pool ``input`` over its axes 2 and beyond.

        Parameters
        ----------
        input : tensor
            Shape ``(batch, channels, d1, ...)``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shape ``(batch, channels)``.
        """
        return self.pool_function(input.flatten(3), axis=2)


class FeaturePoolLayer(Layer):
    """Pool groups of ``pool_size`` consecutive features along one axis (e.g. maxout).

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    pool_size : int
        Number of consecutive features pooled together.
    axis : int
        The axis to pool along; the default ``1`` is the feature axis of dense and convolution
        layers.  Negative axes count from the end (stored non-negative).
    pool_function : callable
        Called as ``pool_function(x, axis=axis + 1)`` on the input with ``axis`` split into
        ``(size // pool_size, pool_size)``; defaults to ``T.max`` (maxout).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Raises
    ------
    ValueError
        If the size of ``axis`` is known and not a multiple of ``pool_size`` (as Lasagne), or if
        ``pool_size`` or ``axis`` is invalid.

    Notes
    -----
    The output has the input's shape with the size of ``axis`` divided by ``pool_size``
    (``None`` stays ``None``; a run-time size that is not a multiple fails in the reshape).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.pool import FeaturePoolLayer
    >>> l_maxout = FeaturePoolLayer(InputLayer((None, 6)), pool_size=3)
    >>> l_maxout.output_shape
    (None, 2)
    >>> get_output(l_maxout, np.array([[1., 5., 2., -1., -3., 0.]])).eval().tolist()
    [[5.0, 0.0]]
    """

    def __init__(self, incoming, pool_size, axis=1, pool_function=pt.max, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size, self.axis = _check_feature_axis(self, pool_size, axis, "pool")
        if not callable(pool_function):
            raise TypeError(f"FeaturePoolLayer: pool_function={pool_function!r} is not callable")
        self.pool_function = pool_function

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape`` with the size of ``axis`` divided by ``pool_size``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
        """
        shape = list(input_shape)
        if shape[self.axis] is not None:
            shape[self.axis] //= self.pool_size
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        """Pool each group of ``pool_size`` features along ``axis``.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shaped as ``get_output_shape_for(input.shape)``.
        """
        grouped = _grouped(input, self.axis, self.pool_size)
        return self.pool_function(grouped, axis=self.axis + 1)


class FeatureWTALayer(Layer):
    """Winner takes all: zero all but the largest feature in each group of ``pool_size``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    pool_size : int
        Number of consecutive features per group.
    axis : int
        The axis along which groups are formed (default ``1``, the feature axis).  Negative axes
        count from the end (stored non-negative).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Raises
    ------
    ValueError
        If the size of ``axis`` is known and not a multiple of ``pool_size`` (as Lasagne), or if
        ``pool_size`` or ``axis`` is invalid.

    Notes
    -----
    The output has the input's shape and dtype.  Within a group with tied maxima only the first
    is kept.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.pool import FeatureWTALayer
    >>> l_wta = FeatureWTALayer(InputLayer((None, 4)), pool_size=2)
    >>> l_wta.output_shape
    (None, 4)
    >>> get_output(l_wta, np.array([[1., 3., 4., -2.]])).eval().tolist()
    [[0.0, 3.0, 4.0, 0.0]]
    """

    def __init__(self, incoming, pool_size, axis=1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size, self.axis = _check_feature_axis(self, pool_size, axis, "region")

    def get_output_for(self, input, **kwargs):
        """Keep the maximum of each group along ``axis``; zero the rest.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape and dtype as ``input``.
        """
        grouped = _grouped(input, self.axis, self.pool_size)
        winners = pt.argmax(grouped, axis=self.axis + 1, keepdims=True)
        pattern = ["x"] * grouped.ndim
        pattern[self.axis + 1] = 0
        position = pt.arange(self.pool_size).dimshuffle(*pattern)
        mask = pt.eq(winners, position).reshape(input.shape, ndim=input.ndim)
        return input * pt.cast(mask, input.dtype)


class _UpscaleLayer(Layer):
    """Shared machinery of the upscaling layers: ``scale_factor`` over axes 2, 3, ..."""

    ndim_spatial = None

    def __init__(self, incoming, scale_factor, mode="repeat", **kwargs):
        super().__init__(incoming, **kwargs)
        who, n = type(self).__name__, self.ndim_spatial
        if len(self.input_shape) < n + 2:
            raise ValueError(f"{who}: input shape {self.input_shape} has "
                             f"{len(self.input_shape)} dimensions; expected at least {n + 2} "
                             f"(batch, channels, {n} spatial)")
        try:
            factors = tuple(scale_factor)
        except TypeError:
            factors = (scale_factor,) * n
        if len(factors) != n:
            raise ValueError(f"{who}: expected a single value or an iterable of {n} scale "
                             f"factors, got {scale_factor!r}")
        if not all(isinstance(f, numbers.Integral) and not isinstance(f, bool)
                   for f in factors):
            raise TypeError(f"{who}: scale_factor={scale_factor!r}; expected ints")
        self.scale_factor = tuple(int(f) for f in factors)
        if any(f < 1 for f in self.scale_factor):
            raise ValueError(f"Scale factor must be >= 1, not {self.scale_factor}")
        if not isinstance(mode, str) or mode not in ("repeat", "dilate"):
            raise ValueError(f"Mode must be either 'repeat' or 'dilate', not {mode!r}")
        self.mode = mode

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape`` with axes 2, 3, ... multiplied by ``scale_factor``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            ``None`` sizes stay ``None``.
        """
        shape = list(input_shape)
        for axis, factor in enumerate(self.scale_factor, start=2):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        """Upscale ``input`` over axes 2, 3, ... by repeating or dilating.

        Parameters
        ----------
        input : tensor
            Shape ``(batch, channels, d1, ...)``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Each ``d_i`` multiplied by its scale factor; same dtype as ``input``.
        """
        if all(f == 1 for f in self.scale_factor):
            return input
        if self.mode == "repeat":
            output = input
            for axis, factor in enumerate(self.scale_factor, start=2):
                if factor > 1:
                    output = pt.repeat(output, factor, axis=axis)
            return output
        shape = [input.shape[a] for a in range(input.ndim)]
        for axis, factor in enumerate(self.scale_factor, start=2):
            shape[axis] = shape[axis] * factor
        index = (slice(None), slice(None)) + tuple(slice(None, None, f)
                                                   for f in self.scale_factor)
        return pt.set_subtensor(pt.zeros(shape, dtype=input.dtype)[index], input)


class Upscale1DLayer(_UpscaleLayer):
    """Upscale the trailing axis of a ``(batch, channels, length)`` input.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, length)``.
    scale_factor : int or iterable of one int
        ``>= 1``.
    mode : {'repeat', 'dilate'}
        ``'repeat'`` repeats each element ``scale_factor`` times; ``'dilate'`` places the
        elements ``scale_factor`` apart with zeros in between.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Attributes
    ----------
    scale_factor : tuple of int
    mode : str

    Raises
    ------
    ValueError
        If a scale factor is below 1, ``mode`` is unknown, ``scale_factor`` has the wrong length
        or the input has fewer than 3 dimensions.
    TypeError
        If a scale factor is not an int.

    Notes
    -----
    The output has shape ``(batch, channels, length * scale_factor)``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.pool import Upscale1DLayer
    >>> l_in = InputLayer((None, 1, 3))
    >>> Upscale1DLayer(l_in, 2).output_shape
    (None, 1, 6)
    >>> x = np.array([[[1., 2., 3.]]])
    >>> get_output(Upscale1DLayer(l_in, 2), x).eval().tolist()
    [[[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]]]
    >>> get_output(Upscale1DLayer(l_in, 2, mode='dilate'), x).eval().tolist()
    [[[1.0, 0.0, 2.0, 0.0, 3.0, 0.0]]]
    """

    ndim_spatial = 1


class Upscale2DLayer(_UpscaleLayer):
    """Upscale the two trailing axes of a ``(batch, channels, rows, columns)`` input.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, rows, columns)``.
    scale_factor : int or iterable of two ints
        ``>= 1``; an int is used for both axes.
    mode : {'repeat', 'dilate'}
        As for :class:`Upscale1DLayer`.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Attributes
    ----------
    scale_factor : tuple of int
    mode : str

    Raises
    ------
    ValueError
        As for :class:`Upscale1DLayer` (at least 4 input dimensions).
    TypeError
        If a scale factor is not an int.

    Notes
    -----
    The output has shape ``(batch, channels, rows * scale_factor[0], columns *
    scale_factor[1])``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.pool import Upscale2DLayer
    >>> l_up = Upscale2DLayer(InputLayer((None, 3, 4, None)), (2, 3))
    >>> l_up.output_shape, l_up.scale_factor
    ((None, 3, 8, None), (2, 3))
    >>> l_in, x = InputLayer((1, 1, 1, 2)), np.array([[[[1., 2.]]]])
    >>> get_output(Upscale2DLayer(l_in, 2), x).eval().tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    >>> get_output(Upscale2DLayer(l_in, 2, mode='dilate'), x).eval().tolist()
    [[[[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]
    """

    ndim_spatial = 2


class Upscale3DLayer(_UpscaleLayer):
    """Upscale the three trailing axes of a ``(batch, channels, depth, rows, columns)`` input.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, depth, rows, columns)``.
    scale_factor : int or iterable of three ints
        ``>= 1``; an int is used for all three axes.
    mode : {'repeat', 'dilate'}
        As for :class:`Upscale1DLayer`.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Attributes
    ----------
    scale_factor : tuple of int
    mode : str

    Raises
    ------
    ValueError
        As for :class:`Upscale1DLayer` (at least 5 input dimensions).
    TypeError
        If a scale factor is not an int.

    Notes
    -----
    The output has shape ``(batch, channels, depth * s[0], rows * s[1], columns * s[2])`` for
    ``s = scale_factor``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.pool import Upscale3DLayer
    >>> l_up = Upscale3DLayer(InputLayer((None, 2, 1, 2, 3)), (3, 2, 1))
    >>> l_up.output_shape
    (None, 2, 3, 4, 3)
    >>> get_output(l_up, np.ones((1, 2, 1, 2, 3))).eval().shape
    (1, 2, 3, 4, 3)
    """

    ndim_spatial = 3
