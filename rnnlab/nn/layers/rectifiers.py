"""Rectifier layers with a learned or random slope for negative inputs: PReLU and RReLU.

:class:`ParametricRectifierLayer` learns the slope (one per feature by default);
:class:`RandomizedRectifierLayer` draws it uniformly from ``[lower, upper)`` in training and uses
the mean slope when :func:`~rnnlab.nn.layers.get_output` is called with ``deterministic=True``.
Its random numbers come from PyTensor generators seeded, when the layer is created, from
:func:`rnnlab.nn.random.get_rng` (as for :class:`~rnnlab.nn.layers.DropoutLayer`), and advance
on each call of a compiled function.
"""

import numbers

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from .. import init, nonlinearities
from ..random import RandomStreams
from ._arguments import broadcast_over, check_shared_axes
from .base import Layer

__all__ = ["ParametricRectifierLayer", "prelu", "RandomizedRectifierLayer", "rrelu"]


def _leaky(x, slope):
    """``max(x, 0) + slope * min(x, 0)``, written as Theano's ``relu(x, alpha)``."""
    return 0.5 * (1 + slope) * x + 0.5 * (1 - slope) * abs(x)


def _strip_nonlinearity(layer):
    if getattr(layer, "nonlinearity", None) is not None:
        layer.nonlinearity = nonlinearities.identity


class ParametricRectifierLayer(Layer):
    """Parametric rectifier (PReLU): ``max(x, 0) + alpha * min(x, 0)`` with a learned ``alpha``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape; sizes on the axes not shared must be known.
    alpha : initializer, numpy.ndarray, shared variable or expression
        The slopes for negative inputs, shaped as the input without ``shared_axes``; tagged
        ``regularizable=False``.
    shared_axes : 'auto', 'all', int or tuple of int
        Axes ``alpha`` is shared (broadcast) over.  ``'auto'``: all but axis 1 (one slope per
        feature or channel); ``'all'``: every axis (one scalar slope).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Attributes
    ----------
    alpha : SharedVariable
    shared_axes : tuple of int
        Non-negative.

    Raises
    ------
    ValueError
        If an axis not shared has an unknown size, or ``shared_axes`` is invalid.

    Notes
    -----
    The output has the input's shape.  Reference: K. He et al. (2015), "Delving Deep into
    Rectifiers", https://arxiv.org/abs/1502.01852.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.rectifiers import ParametricRectifierLayer
    >>> ParametricRectifierLayer((20, 3, 28, 28), shared_axes=(0, 3)).alpha.get_value().shape
    (3, 28)
    >>> l_prelu = ParametricRectifierLayer(InputLayer((None, 2)))
    >>> l_prelu.output_shape, l_prelu.alpha.get_value().tolist()
    ((None, 2), [0.25, 0.25])
    >>> get_output(l_prelu, np.array([[-4., 4.]])).eval().tolist()
    [[-1.0, 4.0]]
    """

    def __init__(self, incoming, alpha=init.Constant(0.25), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = check_shared_axes(shared_axes, self.input_shape,
                                             "ParametricRectifierLayer", allow_all=True)
        shape = tuple(s for a, s in enumerate(self.input_shape) if a not in self.shared_axes)
        if None in shape:
            raise ValueError(f"ParametricRectifierLayer needs input sizes for all axes that "
                             f"alpha's are not shared over: input shape {self.input_shape}, "
                             f"shared_axes={self.shared_axes}")
        self.alpha = self.add_param(alpha, shape, name="alpha", regularizable=False)

    def get_output_for(self, input, **kwargs):
        """Return ``max(input, 0) + alpha * min(input, 0)``, same shape.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
        """
        return _leaky(input, broadcast_over(self.alpha, self.shared_axes, input.ndim))


def prelu(layer, **kwargs):
    """Replace a layer's nonlinearity by a :class:`ParametricRectifierLayer` on top of it.

    Parameters
    ----------
    layer : Layer
        Modified in place: a ``nonlinearity`` attribute that is not ``None`` is set to identity.
    **kwargs
        Passed to :class:`ParametricRectifierLayer` (``alpha``, ``shared_axes``, ``name``).

    Returns
    -------
    ParametricRectifierLayer
        Fed by ``layer``; same output shape.

    Notes
    -----
    It is not a nonlinearity: ``DenseLayer(..., nonlinearity=prelu)`` does not work.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer
    >>> from rnnlab.nn.nonlinearities import identity
    >>> from rnnlab.nn.layers.rectifiers import prelu
    >>> l_hid = DenseLayer(InputLayer((None, 10)), num_units=4)
    >>> l_prelu = prelu(l_hid)
    >>> l_prelu.input_layer is l_hid, l_hid.nonlinearity is identity, l_prelu.output_shape
    (True, True, (None, 4))
    """
    _strip_nonlinearity(layer)
    return ParametricRectifierLayer(layer, **kwargs)


def _check_bound(value, name):
    if isinstance(value, Variable):
        if value.ndim != 0:
            raise ValueError(f"RandomizedRectifierLayer: {name} is a {value.ndim}-d expression; "
                             "expected a scalar")
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"RandomizedRectifierLayer: {name}={value!r}; expected a number or a "
                        "scalar expression")
    return value


class RandomizedRectifierLayer(Layer):
    """Randomized leaky rectifier (RReLU): ``max(x, 0) + a * min(x, 0)``, ``a ~ U(lower, upper)``.

    In training a fresh slope ``a`` is drawn on every call; with ``deterministic=True`` the slope
    is the mean ``(lower + upper) / 2``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    lower : float or scalar expression
        Lower bound of the slopes.
    upper : float or scalar expression
        Upper bound of the slopes; numbers must satisfy ``lower <= upper``.
    shared_axes : 'auto', 'all', int or tuple of int
        Axes one random slope is shared over.  ``'auto'``: all but axis 1 (one slope per feature
        or channel per call, as in Lasagne); ``'all'``: a single slope; ``()``: one per entry.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Attributes
    ----------
    lower, upper : float or Variable
    shared_axes : tuple of int
        Non-negative.

    Raises
    ------
    ValueError
        If ``lower > upper`` (numbers), or ``shared_axes`` is invalid.

    Notes
    -----
    The output has the input's shape.  The slopes come from generators seeded from
    :func:`rnnlab.nn.random.get_rng` when the layer is created.  Reference: B. Xu et al. (2015),
    "Empirical Evaluation of Rectified Activations in Convolutional Network",
    https://arxiv.org/abs/1505.00853.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, get_output
    >>> from rnnlab.nn.layers.rectifiers import RandomizedRectifierLayer
    >>> l_rrelu = RandomizedRectifierLayer(InputLayer((None, 3)), lower=0.2, upper=0.4)
    >>> l_rrelu.output_shape, l_rrelu.shared_axes
    ((None, 3), (0,))
    >>> x = np.array([[-1., -1., 2.], [-1., -1., 2.]])
    >>> get_output(l_rrelu, x, deterministic=True).eval().tolist()
    [[-0.3, -0.3, 2.0], [-0.3, -0.3, 2.0]]
    >>> y = get_output(l_rrelu, x).eval()
    >>> bool(np.all((-0.4 <= y[:, :2]) & (y[:, :2] <= -0.2))), y[:, 2].tolist()
    (True, [2.0, 2.0])
    """

    def __init__(self, incoming, lower=0.3, upper=0.8, shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.lower = lower = _check_bound(lower, "lower")
        self.upper = upper = _check_bound(upper, "upper")
        if not isinstance(lower, Variable) and not isinstance(upper, Variable) and lower > upper:
            raise ValueError(f"Upper bound for RandomizedRectifierLayer needs to be higher than "
                             f"lower bound: lower={lower!r}, upper={upper!r}")
        self.shared_axes = check_shared_axes(shared_axes, self.input_shape,
                                             "RandomizedRectifierLayer", allow_all=True)
        self._srng = RandomStreams()

    def _fixed(self):
        return (not isinstance(self.lower, Variable) and not isinstance(self.upper, Variable)
                and self.lower == self.upper)

    def get_output_for(self, input, deterministic=False, **kwargs):
        """Apply the rectifier with random slopes (mean slope if deterministic).

        Parameters
        ----------
        input : tensor
            Shaped as ``input_shape``.
        deterministic : bool
            If True (or if ``lower == upper``), use the slope ``(lower + upper) / 2``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape as ``input``.
        """
        dtype = input.dtype if input.dtype.startswith("float") else pytensor.config.floatX
        if deterministic or self._fixed():
            slope = pt.cast((pt.as_tensor(self.upper) + pt.as_tensor(self.lower)) / 2.0, dtype)
            return _leaky(input, slope)
        size = [input.shape[a] for a in range(input.ndim) if a not in self.shared_axes]
        slopes = self._srng.draw("uniform", self.lower, self.upper, size=size, dtype=dtype)
        return _leaky(input, broadcast_over(slopes, self.shared_axes, input.ndim))


def rrelu(layer, **kwargs):
    """Replace a layer's nonlinearity by a :class:`RandomizedRectifierLayer` on top of it.

    Parameters
    ----------
    layer : Layer
        Modified in place: a ``nonlinearity`` attribute that is not ``None`` is set to identity.
    **kwargs
        Passed to :class:`RandomizedRectifierLayer` (``lower``, ``upper``, ``shared_axes``,
        ``name``).

    Returns
    -------
    RandomizedRectifierLayer
        Fed by ``layer``; same output shape.

    Notes
    -----
    It is not a nonlinearity: ``DenseLayer(..., nonlinearity=rrelu)`` does not work.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer
    >>> from rnnlab.nn.nonlinearities import identity
    >>> from rnnlab.nn.layers.rectifiers import rrelu
    >>> l_hid = DenseLayer(InputLayer((None, 10)), num_units=4)
    >>> l_rrelu = rrelu(l_hid, lower=0.1, upper=0.2)
    >>> l_rrelu.input_layer is l_hid, l_hid.nonlinearity is identity, l_rrelu.output_shape
    (True, True, (None, 4))
    """
    _strip_nonlinearity(layer)
    return RandomizedRectifierLayer(layer, **kwargs)
