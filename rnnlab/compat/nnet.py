"""Theano's ``theano.tensor.nnet`` functions, on PyTensor, with Theano's semantics.

PyTensor removed ``theano.tensor.nnet``; its functions moved or went (the table in
``docs/lasagne.md`` says where).  This module gives Lasagne-era scripts the names they call as
``T.nnet.<name>`` when ``T`` is :mod:`rnnlab.compat.tensor`.  Each builds a symbolic PyTensor
expression, as Theano's did: call ``.eval()`` or compile it with ``theano.function`` to get
numbers.  Float inputs keep their dtype; integer inputs give floatX.

Theano's shapes are kept where they differ from PyTensor's: :func:`softmax` normalizes the rows
of a matrix (a vector becomes one row), and :func:`categorical_crossentropy` takes a matrix of
probabilities with either an integer vector of classes or a matrix of target distributions.

Other names of Theano's ``nnet`` (``conv2d``, ``h_softmax``, the ``ctc`` and ``bn`` modules...)
are not here; asking for one raises an :class:`AttributeError` that says so.

Examples
--------
>>> from rnnlab.compat.theano import tensor as T
>>> p = T.matrix("p")
>>> y = T.ivector("y")
>>> loss = T.nnet.categorical_crossentropy(p, y)
>>> loss.eval({p: np.array([[0.5, 0.5], [0.1, 0.9]], dtype=p.dtype),
...            y: np.array([0, 1], dtype="int32")}).tolist()
[0.693, 0.105]
"""

import numbers

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.tensor.type import integer_dtypes

__all__ = ["sigmoid", "hard_sigmoid", "ultra_fast_sigmoid", "softplus", "relu", "softmax",
           "categorical_crossentropy", "binary_crossentropy"]


def _float(x):
    """``x`` as a tensor of a float dtype (integers become floatX) and that dtype."""
    x = pt.as_tensor_variable(x)
    if not x.dtype.startswith("float"):
        x = pt.cast(x, pytensor.config.floatX)
    return x, x.dtype


def _const(value, dtype):
    return pt.constant(np.asarray(value, dtype=dtype))


def sigmoid(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, elementwise (PyTensor's ``pt.sigmoid``).

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    TensorVariable
        Same shape as ``x``, values in ``(0, 1)``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector("x")
    >>> sigmoid(x).eval({x: np.array([-2.0, 0.0, 2.0], dtype=x.dtype)}).tolist()
    [0.119, 0.5, 0.881]
    """
    x, _ = _float(x)
    return pt.sigmoid(x)


def hard_sigmoid(x):
    """Theano's piecewise-linear sigmoid ``clip(0.2 * x + 0.5, 0, 1)``, elementwise.

    PyTensor has no ``hard_sigmoid``; this is Theano's definition (0 below -2.5, 1 above 2.5,
    slope 0.2 between, and that slope as its gradient there).

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    TensorVariable
        Same shape as ``x``, values in ``[0, 1]``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector("x")
    >>> hard_sigmoid(x).eval({x: np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=x.dtype)}).tolist()
    [0.0, 0.3, 0.5, 0.7, 1.0]
    """
    x, dtype = _float(x)
    return pt.clip(_const(0.2, dtype) * x + _const(0.5, dtype), _const(0, dtype),
                   _const(1, dtype))


def ultra_fast_sigmoid(x):
    """Theano's fast approximation of the sigmoid, elementwise (absolute error below 0.03).

    The sigmoid is ``(1 + tanh(x / 2)) / 2``; Theano approximated the ``tanh`` by
    ``1.5 a / (1 + a)`` for ``a = |x| / 2 < 1.7``, a straight line up to ``a = 3`` and the
    constant 0.99505475368673 beyond, with the sign of ``x``.  PyTensor has no such function;
    this builds the same piecewise expression, so the values are Theano's, including its step
    down by 0.0045 at ``|x| = 3.4``.  Its gradient is Theano's: ``y * (1 - y)`` of the
    approximation ``y`` (the piecewise expression's own derivative is 0 at 0 and beyond
    ``|x| = 6``).

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    TensorVariable
        Same shape as ``x``, values in ``[0.0025, 0.9975]``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector("x")
    >>> ultra_fast_sigmoid(x).eval({x: np.array([-8.0, 0.0, 1.0, 4.0], dtype=x.dtype)}).tolist()
    [0.0025, 0.5, 0.75, 0.9746]
    """
    x, dtype = _float(x)
    a = _const(0.5, dtype) * abs(x)
    tanh = pt.switch(
        a < _const(1.7, dtype), _const(1.5, dtype) * a / (_const(1, dtype) + a),
        pt.switch(a < _const(3, dtype),
                  _const(0.935409070603099, dtype)
                  + _const(0.0458812946797165, dtype) * (a - _const(1.7, dtype)),
                  _const(0.99505475368673, dtype)))
    y = _const(0.5, dtype) * (pt.sign(x) * tanh + _const(1, dtype))
    # Value y, gradient y * (1 - y): the term (x - x) is 0 but carries the gradient.
    frozen = disconnected_grad(y)
    return frozen + (x - disconnected_grad(x)) * frozen * (_const(1, dtype) - frozen)


def softplus(x):
    """``log(1 + exp(x))``, elementwise and stable for large ``|x|`` (PyTensor's ``pt.softplus``).

    Parameters
    ----------
    x : tensor or array_like, any shape

    Returns
    -------
    TensorVariable
        Same shape as ``x``, positive values.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector("x")
    >>> softplus(x).eval({x: np.array([-5.0, 0.0, 5.0], dtype=x.dtype)}).tolist()
    [0.0067, 0.693, 5.0067]
    """
    x, _ = _float(x)
    return pt.softplus(x)


def relu(x, alpha=0):
    """Theano's rectifier: ``max(x, 0)``, or ``max(x, alpha * x)`` (leaky) for ``0 < alpha < 1``.

    As in Theano it is computed as ``0.5 * (x + |x|)``, or ``0.5 (1 + alpha) x +
    0.5 (1 - alpha) |x|`` (so the gradient at exactly 0 is the mean of the two slopes).

    Parameters
    ----------
    x : tensor or array_like, any shape
    alpha : float or scalar tensor, default 0
        The slope for negative inputs.

    Returns
    -------
    TensorVariable
        Same shape as ``x``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector("x")
    >>> values = np.array([-2.0, 0.0, 3.0], dtype=x.dtype)
    >>> relu(x).eval({x: values}).tolist()
    [0.0, 0.0, 3.0]
    >>> relu(x, alpha=0.1).eval({x: values}).tolist()
    [-0.2, 0.0, 3.0]
    """
    x, dtype = _float(x)
    half = _const(0.5, dtype)
    if isinstance(alpha, numbers.Number) and alpha == 0:
        return half * (x + abs(x))
    alpha = _const(alpha, dtype) if isinstance(alpha, numbers.Number) \
        else pt.as_tensor_variable(alpha)
    one = _const(1, dtype)
    return half * (one + alpha) * x + half * (one - alpha) * abs(x)


def softmax(c):
    """Theano's softmax: each row of a matrix becomes a distribution.

    PyTensor's replacement is ``pytensor.tensor.special.softmax(c, axis=-1)``.  Theano's op
    took a matrix, or a vector that it made one row (the result is then a ``(1, C)`` matrix).

    Parameters
    ----------
    c : tensor, shape ``(N, C)`` or ``(C,)``
        Unnormalized log-probabilities (logits).

    Returns
    -------
    TensorVariable
        Shape ``(N, C)`` (``(1, C)`` for a vector): non-negative, each row summing to 1.

    Raises
    ------
    ValueError
        If ``c`` has another number of dimensions, as in Theano.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> c = pt.matrix("c")
    >>> softmax(c).eval({c: np.array([[0.0, 0.0], [0.0, np.log(3.0)]], dtype=c.dtype)}).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    >>> softmax(pt.vector("v")).type.shape
    (1, None)
    """
    c = pt.as_tensor_variable(c)
    if c.ndim not in (1, 2):
        raise ValueError(f"softmax: Theano's T.nnet.softmax takes a 1-d or 2-d tensor, got "
                         f"{c.ndim}-d (pytensor.tensor.special.softmax takes any, with an axis)")
    if c.ndim == 1:
        c = c.dimshuffle("x", 0)
    return pt.special.softmax(c, axis=-1)


def categorical_crossentropy(coding_dist, true_dist):
    """Theano's cross-entropy between predicted distributions and targets, one value per row.

    ``-sum(true_dist * log(coding_dist), axis=-1)`` when the targets are distributions (one-hot
    or soft) of the same shape; ``-log(coding_dist[i, true_dist[i]])`` when they are integer
    class indices, one per row.

    Parameters
    ----------
    coding_dist : tensor, shape ``(N, C)``
        Predicted probabilities, each row a distribution (a softmax output).  With distribution
        targets any number of dimensions is allowed, the classes on the last axis.
    true_dist : tensor, shape ``(N,)`` of an integer dtype, or the shape of ``coding_dist``
        The class of each row, or a target distribution for each row.

    Returns
    -------
    TensorVariable
        Shape ``(N,)``: ``coding_dist``'s shape without its last axis.

    Raises
    ------
    TypeError
        If the ranks do not fit one of the two forms, or class indices are not integers or
        come with a ``coding_dist`` that is not a matrix, as in Theano.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> p = pt.matrix("p")
    >>> probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], dtype=p.dtype)
    >>> categorical_crossentropy(p, np.array([0, 2], dtype="int32")).eval({p: probs}).tolist()
    [0.693, 0.223]
    >>> one_hot = np.array([[1, 0, 0], [0, 0, 1]], dtype=p.dtype)
    >>> categorical_crossentropy(p, one_hot).eval({p: probs}).tolist()
    [0.693, 0.223]
    """
    coding_dist = pt.as_tensor_variable(coding_dist)
    true_dist = pt.as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -pt.sum(true_dist * pt.log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1:
        if coding_dist.ndim != 2:
            raise TypeError(f"categorical_crossentropy: integer targets need a matrix of "
                            f"probabilities, got a {coding_dist.ndim}-d coding_dist")
        if true_dist.dtype not in integer_dtypes:
            raise TypeError(f"categorical_crossentropy: class indices must be integers, got "
                            f"{true_dist.dtype}")
        rows = pt.arange(coding_dist.shape[0])
        return -pt.log(coding_dist[rows, true_dist])
    raise TypeError(f"categorical_crossentropy: rank mismatch between coding and true "
                    f"distributions ({coding_dist.ndim}-d and {true_dist.ndim}-d)")


def binary_crossentropy(output, target):
    """Theano's binary cross-entropy ``-(t log(o) + (1 - t) log(1 - o))``, elementwise.

    Parameters
    ----------
    output : tensor, any shape
        Predicted probabilities in ``(0, 1)`` (a sigmoid output).
    target : tensor or array_like, broadcastable to ``output``
        Targets in ``[0, 1]``.

    Returns
    -------
    TensorVariable
        The broadcast shape of ``output`` and ``target``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> o = pt.vector("o")
    >>> loss = binary_crossentropy(o, np.array([1.0, 0.0, 1.0], dtype=o.dtype))
    >>> loss.eval({o: np.array([0.5, 0.1, 0.9], dtype=o.dtype)}).tolist()
    [0.693, 0.105, 0.105]
    """
    output, dtype = _float(output)
    target = pt.as_tensor_variable(target)
    one = _const(1, dtype)
    return -(target * pt.log(output) + (one - target) * pt.log(one - output))


def __getattr__(name):
    """Theano's other ``nnet`` names are not here: say so, and where PyTensor has them."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise AttributeError(
        f"module {__name__!r} has no attribute {name!r}: PyTensor removed theano.tensor.nnet and "
        f"rnnlab.compat provides only {', '.join(__all__)} (see docs/lasagne.md for the "
        "PyTensor names that replaced the others)")
