"""Activation functions (Lasagne's ``lasagne.nonlinearities``).

Every nonlinearity is a callable taking one tensor and returning a tensor of the same shape
(elementwise, except :func:`softmax`, which normalizes along the last axis).  Given a PyTensor
variable they build a symbolic expression; given a number or a numpy array they compute the result
with numpy and return a numpy array, which is handy for reference implementations and tests.

Parametrized nonlinearities are classes whose instances are the nonlinearity
(``LeakyRectify(0.1)``, ``ScaledTanH(2 / 3, 1.7159)``, ``SELU()``); ready-made instances are
provided for the usual settings (:data:`leaky_rectify`, :data:`very_leaky_rectify`, :data:`selu`).
"""

import numbers

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

__all__ = ["sigmoid", "softmax", "tanh", "ScaledTanH", "ScaledTanh", "rectify", "LeakyRectify",
           "leaky_rectify", "very_leaky_rectify", "elu", "SELU", "selu", "softplus", "linear",
           "identity"]


def _symbolic(x):
    """True if ``x`` is a PyTensor variable (otherwise it is computed with numpy)."""
    return isinstance(x, Variable)


def _check_number(name, value):
    """A real number, a 0-d array (``floatX(0.1)``) or a scalar expression (a shared variable)."""
    if isinstance(value, Variable):
        if value.ndim != 0:
            raise TypeError(f"{name} is a {value.ndim}-d expression; expected a scalar")
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return value
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} {value!r} is not a real number or a scalar expression")
    return value


def _operand(x, *params):
    """``x`` as a PyTensor expression if it or a parameter is symbolic, else as a numpy array."""
    if _symbolic(x) or any(isinstance(p, Variable) for p in params):
        return pt.as_tensor_variable(x)
    return np.asarray(x)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise.

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    tensor or numpy.ndarray
        Same shape as ``x``, values in ``(0, 1)``.

    Examples
    --------
    >>> sigmoid(np.array([0.0, 100.0]))
    array([0.5, 1. ])
    """
    if _symbolic(x):
        return pt.sigmoid(x)
    x = np.asarray(x)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax(x):
    """Softmax along the last axis: each row of a ``(N, C)`` matrix becomes a distribution.

    Parameters
    ----------
    x : tensor or array_like, shape ``(N, C)`` (any leading axes are allowed)

    Returns
    -------
    tensor or numpy.ndarray
        Same shape; non-negative, summing to 1 along the last axis.

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    if _symbolic(x):
        return pt.special.softmax(x, axis=-1)
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def tanh(x):
    """Hyperbolic tangent, elementwise.

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    tensor or numpy.ndarray
        Same shape as ``x``, values in ``(-1, 1)``.

    Examples
    --------
    >>> tanh(np.array([0.0]))
    array([0.])
    """
    if _symbolic(x):
        return pt.tanh(x)
    return np.tanh(np.asarray(x))


class ScaledTanH:
    """Scaled hyperbolic tangent ``scale_out * tanh(scale_in * x)``.

    LeCun et al. (1998) recommend ``scale_in=2/3, scale_out=1.7159``.

    Parameters
    ----------
    scale_in : float or scalar expression
        Multiplies the input.
    scale_out : float or scalar expression
        Multiplies the output.

    Examples
    --------
    >>> f = ScaledTanH(scale_in=0.5, scale_out=2.0)
    >>> bool(np.isclose(f(np.array(2.0)), 2 * np.tanh(1.0)))
    True
    """

    def __init__(self, scale_in=1, scale_out=1):
        self.scale_in = _check_number("scale_in", scale_in)
        self.scale_out = _check_number("scale_out", scale_out)

    def __call__(self, x):
        """Apply to ``x`` (any shape); returns the same shape."""
        return self.scale_out * tanh(self.scale_in * _operand(x, self.scale_in, self.scale_out))

    def __repr__(self):
        return f"ScaledTanH(scale_in={self.scale_in!r}, scale_out={self.scale_out!r})"


#: Alias of :class:`ScaledTanH`.
ScaledTanh = ScaledTanH


def rectify(x):
    """Rectified linear unit ``max(0, x)``, elementwise.

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    tensor or numpy.ndarray
        Same shape as ``x``; a numpy array for numpy (or number) input.

    Examples
    --------
    >>> rectify(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    >>> x = pt.vector('x')
    >>> rectify(x).eval({x: np.array([-3.0, 3.0], dtype=x.dtype)}).tolist()
    [0.0, 3.0]
    """
    if _symbolic(x):
        # 0.5 * (x + |x|) has a cheap gradient and equals max(0, x)
        return 0.5 * (x + abs(x))
    return np.maximum(np.asarray(x), 0)


class LeakyRectify:
    """Leaky rectifier ``max(leakiness * x, x)`` (for ``0 <= leakiness <= 1``), elementwise.

    Parameters
    ----------
    leakiness : float or scalar expression
        Slope for negative inputs; 0 gives :func:`rectify`.  A shared variable can be changed
        during training without recompiling.

    Examples
    --------
    >>> LeakyRectify(0.1)(np.array([-2.0, 3.0]))
    array([-0.2,  3. ])
    >>> import pytensor
    >>> slope = pytensor.shared(0.5)
    >>> LeakyRectify(slope)(np.array([-2.0, 3.0])).eval().tolist()
    [-1.0, 3.0]
    """

    def __init__(self, leakiness=0.01):
        self.leakiness = _check_number("leakiness", leakiness)

    def __call__(self, x):
        """Apply to ``x`` (any shape); returns the same shape."""
        a = self.leakiness
        x = _operand(x, a)
        if _symbolic(x):
            if not isinstance(a, Variable) and a == 0:
                return rectify(x)
            return 0.5 * (1 + a) * x + 0.5 * (1 - a) * abs(x)
        return np.where(x > 0, x, a * x)

    def __repr__(self):
        return f"LeakyRectify(leakiness={self.leakiness!r})"


#: Leaky rectifier with leakiness 0.01.
leaky_rectify = LeakyRectify()
#: Leaky rectifier with leakiness 1/3.
very_leaky_rectify = LeakyRectify(1.0 / 3)


def elu(x):
    """Exponential linear unit: ``x`` for ``x > 0``, ``exp(x) - 1`` otherwise (Clevert et al.).

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    tensor or numpy.ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> elu(np.array([-np.inf, 0.0, 2.0]))
    array([-1.,  0.,  2.])
    """
    if _symbolic(x):
        # expm1 of min(x, 0) keeps the unused branch (and its gradient) finite for large x
        return pt.switch(x > 0, x, pt.expm1(pt.minimum(x, 0)))
    x = np.asarray(x)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


class SELU:
    """Scaled exponential linear unit (Klambauer et al., 2017).

    ``scale * x`` for ``x > 0``, ``scale * scale_neg * (exp(x) - 1)`` otherwise.  As in Lasagne,
    the class defaults are 1 and 1 (an ELU); the instance :data:`selu` has the self-normalizing
    constants ``scale=1.0507009873554805, scale_neg=1.6732632423543772``.

    Parameters
    ----------
    scale : float or scalar expression
        Overall scale.
    scale_neg : float or scalar expression
        Extra scale of the negative part.

    Examples
    --------
    >>> f = SELU(scale=2.0, scale_neg=3.0)
    >>> f(np.array([1.0, -np.inf]))
    array([ 2., -6.])
    """

    def __init__(self, scale=1, scale_neg=1):
        self.scale = _check_number("scale", scale)
        self.scale_neg = _check_number("scale_neg", scale_neg)

    def __call__(self, x):
        """Apply to ``x`` (any shape); returns the same shape."""
        x = _operand(x, self.scale, self.scale_neg)
        if _symbolic(x):
            neg = self.scale_neg * pt.expm1(pt.minimum(x, 0))
            return self.scale * pt.switch(x > 0, x, neg)
        return self.scale * np.where(x > 0, x, self.scale_neg * np.expm1(np.minimum(x, 0)))

    def __repr__(self):
        return f"SELU(scale={self.scale!r}, scale_neg={self.scale_neg!r})"


#: SELU with the self-normalizing constants (Klambauer et al., 2017).
selu = SELU(scale=1.0507009873554805, scale_neg=1.6732632423543772)


def softplus(x):
    """Softplus ``log(1 + exp(x))``, elementwise, computed stably.

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    tensor or numpy.ndarray
        Same shape as ``x``, positive.

    Examples
    --------
    >>> softplus(np.array([0.0, 1000.0])).round(4).tolist()
    [0.6931, 1000.0]
    """
    if _symbolic(x):
        return pt.softplus(x)
    return np.logaddexp(0, np.asarray(x))


def linear(x):
    """Identity: return ``x`` unchanged.

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    The input itself.

    Examples
    --------
    >>> linear(3.5)
    3.5
    """
    return x


#: Alias of :func:`linear`.
identity = linear
