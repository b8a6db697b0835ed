"""Loss functions and metrics (Lasagne's ``lasagne.objectives``).

Every loss returns an *elementwise* expression (one value per example, or per example and output
unit); reduce it to the scalar to minimize with :func:`aggregate`::

    loss = aggregate(categorical_crossentropy(predictions, targets), mode='mean')

A vector of targets given with predictions of shape ``(N, 1)`` is treated as a column, so a
network with one output unit and a target vector do not broadcast to ``(N, N)``.

The cross-entropies take probabilities; they clip them to ``[eps, 1 - eps]`` (``eps`` the machine
epsilon of the predictions' dtype) before taking logarithms, so a saturated prediction gives a large
finite loss instead of ``inf``.
"""

import warnings

import numpy as np
import pytensor.tensor as pt

from .ops.crossentropy import SoftmaxCrossEntropy
from .utils import as_theano_expression

__all__ = ["binary_crossentropy", "categorical_crossentropy", "softmax_crossentropy",
           "squared_error", "binary_hinge_loss",
           "multiclass_hinge_loss", "huber_loss", "binary_accuracy", "categorical_accuracy",
           "aggregate"]

MODES = ("mean", "sum", "normalized_sum")


def _align_targets(predictions, targets):
    """Make a target vector a column when predictions are ``(N, 1)``."""
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    if predictions.ndim == 2 and predictions.type.shape[1] == 1 and targets.ndim == 1:
        targets = targets.dimshuffle(0, "x")
    return predictions, targets


def _clip_probabilities(p):
    """Clip probabilities to ``[eps, 1 - eps]`` for ``eps`` the machine epsilon of ``p``'s dtype."""
    dtype = p.dtype if p.dtype.startswith("float") else "float64"
    eps = float(np.finfo(dtype).eps)
    return pt.clip(p, eps, 1.0 - eps)


def _class_targets(predictions, targets, who):
    """Return ``"ids"`` for integer class-id targets, ``"dist"`` for distributions; check ranks."""
    if targets.ndim == predictions.ndim:
        return "dist"
    if targets.ndim == predictions.ndim - 1:
        if not targets.dtype.startswith(("int", "uint")):
            raise TypeError(f"{who}: targets of dtype {targets.dtype} with {targets.ndim} "
                            "dimensions; class ids must be integers")
        return "ids"
    raise TypeError(f"{who}: rank mismatch, predictions have {predictions.ndim} dimensions and "
                    f"targets {targets.ndim}; expected {predictions.ndim} (distributions) or "
                    f"{predictions.ndim - 1} (class ids)")


def binary_crossentropy(predictions, targets):
    """Elementwise binary cross-entropy ``-t log(p) - (1 - t) log(1 - p)``.

    Parameters
    ----------
    predictions : tensor, any shape
        Probabilities in ``[0, 1]`` (e.g. sigmoid outputs).
    targets : tensor, same shape (or ``(N,)`` for predictions ``(N, 1)``)
        Targets in ``[0, 1]``.

    Returns
    -------
    tensor
        Same shape as ``predictions``.

    Examples
    --------
    >>> p = pt.constant(np.array([0.5, 0.9]))
    >>> binary_crossentropy(p, np.array([1.0, 0.0])).eval().round(4)
    array([0.6931, 2.3026])
    """
    predictions, targets = _align_targets(predictions, targets)
    p = _clip_probabilities(predictions)
    return -(targets * pt.log(p) + (1 - targets) * pt.log1p(-p))


def categorical_crossentropy(predictions, targets):
    """Cross-entropy between predicted and target distributions, one value per row.

    Parameters
    ----------
    predictions : tensor, shape ``(N, C)``
        Rows are probability distributions (e.g. softmax outputs).  Leading axes beyond the first
        are allowed, e.g. ``(N, T, C)`` for sequences.
    targets : tensor, shape ``(N,)`` of integer class ids, or ``(N, C)``
        Class ids in ``[0, C)``, or target distributions (one-hot or soft) over the ``C`` classes.

    Returns
    -------
    tensor
        Shape ``(N,)`` (``predictions.shape[:-1]``): ``-sum_c t_c log(p_c)``, which for class ids
        is ``-log(p[n, targets[n]])``.

    Raises
    ------
    TypeError
        If the ranks do not fit, or class ids are not integers.

    Examples
    --------
    >>> p = pt.constant(np.array([[0.25, 0.75], [0.5, 0.5]]))
    >>> categorical_crossentropy(p, np.array([1, 0], dtype='int32')).eval().round(4)
    array([0.2877, 0.6931])
    """
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    kind = _class_targets(predictions, targets, "categorical_crossentropy")
    logp = pt.log(_clip_probabilities(predictions))
    if kind == "dist":
        return -pt.sum(targets * logp, axis=-1)
    n_classes = predictions.shape[-1]
    flat = logp.reshape((-1, n_classes))
    ids = targets.flatten()
    return -flat[pt.arange(ids.shape[0]), ids].reshape(targets.shape)


def softmax_crossentropy(logits, targets):
    """``categorical_crossentropy(softmax(logits), targets)`` for class ids, as one fused op.

    An rnnlab addition to Lasagne's objectives: it takes unnormalised logits, never forms the
    probabilities (so it stays finite for any finite logits, without clipping) and computes the
    loss and its gradient in one compiled pass each
    (:class:`~rnnlab.nn.ops.crossentropy.SoftmaxCrossEntropy`, whatever the compile mode).

    Parameters
    ----------
    logits : tensor, shape ``(N, C)`` or ``(N, T, C)`` (any leading axes)
    targets : integer tensor, shape ``logits.shape[:-1]``
        Class ids in ``[0, C)``; an id outside raises ``ValueError`` when evaluated.

    Returns
    -------
    tensor
        Shape ``logits.shape[:-1]``: ``logsumexp(logits) - logits[..., target]``.

    Examples
    --------
    >>> z = pt.constant(np.log(np.array([[0.25, 0.75], [0.5, 0.5]])))
    >>> softmax_crossentropy(z, np.array([1, 0], dtype='int32')).eval().round(4)
    array([0.2877, 0.6931])
    """
    logits = as_theano_expression(logits)
    targets = as_theano_expression(targets)
    if targets.ndim != logits.ndim - 1 or not targets.dtype.startswith(("int", "uint")):
        raise TypeError(f"softmax_crossentropy: expected integer targets with one axis fewer "
                        f"than the logits {logits.type}, got {targets.type}")
    flat = logits.reshape((-1, logits.shape[-1]))
    loss, _ = SoftmaxCrossEntropy()(flat, targets.flatten())
    return loss.reshape(targets.shape)


def squared_error(a, b):
    """Elementwise squared difference ``(a - b) ** 2``.

    Parameters
    ----------
    a, b : tensor, same (or broadcastable) shape
        A vector ``b`` with ``a`` of shape ``(N, 1)`` is treated as a column.

    Returns
    -------
    tensor
        The broadcast shape of ``a`` and ``b``.

    Examples
    --------
    >>> squared_error(pt.constant(np.array([1.0, 2.0])), np.array([3.0, 2.0])).eval()
    array([4., 0.])
    """
    a, b = _align_targets(a, b)
    return (a - b) ** 2


def binary_hinge_loss(predictions, targets, delta=1, log_odds=None, binary=True):
    """Elementwise hinge loss ``max(0, delta - t * s)`` for binary classification.

    Parameters
    ----------
    predictions : tensor, any shape
        Scores ``s``: log-odds (``log_odds=True``, e.g. a linear output) or probabilities
        (``log_odds=False``, converted with ``log(p / (1 - p))``).
    targets : tensor, same shape
        ``{0, 1}`` labels (``binary=True``, mapped to ``{-1, 1}``) or ``{-1, 1}`` labels.
    delta : float
        The margin.
    log_odds : bool, optional
        Whether ``predictions`` are log-odds.  Not giving it issues a ``FutureWarning`` and
        assumes ``True`` (Lasagne announced the default would change to ``False``).
    binary : bool
        Whether ``targets`` are ``{0, 1}`` rather than ``{-1, 1}``.

    Returns
    -------
    tensor
        Same shape as ``predictions``.

    Examples
    --------
    >>> s = pt.constant(np.array([2.0, 0.5, -1.0]))
    >>> binary_hinge_loss(s, np.array([1, 1, 1]), log_odds=True).eval()
    array([0. , 0.5, 2. ])
    """
    if log_odds is None:
        warnings.warn("binary_hinge_loss: log_odds not given; assuming log_odds=True (scores, not "
                      "probabilities). Pass log_odds explicitly.", FutureWarning, stacklevel=2)
        log_odds = True
    predictions, targets = _align_targets(predictions, targets)
    if not log_odds:
        p = _clip_probabilities(predictions)
        predictions = pt.log(p) - pt.log1p(-p)
    if binary:
        targets = 2 * targets - 1
    return pt.maximum(0, delta - predictions * targets)


def multiclass_hinge_loss(predictions, targets, delta=1):
    """Multi-class hinge loss ``max(0, max_{c != y} s_c - s_y + delta)``, one value per row.

    Parameters
    ----------
    predictions : tensor, shape ``(N, C)``
        Scores of the ``C`` classes.
    targets : tensor, shape ``(N,)`` of integer class ids, or ``(N, C)`` one-hot
    delta : float
        The margin.

    Returns
    -------
    tensor
        Shape ``(N,)``.

    Raises
    ------
    TypeError
        If the ranks do not fit.

    Examples
    --------
    >>> s = pt.constant(np.array([[3.0, 1.0, 2.5], [0.0, 1.0, 0.0]]))
    >>> multiclass_hinge_loss(s, np.array([0, 2], dtype='int32')).eval()
    array([0.5, 2. ])
    """
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    if _class_targets(predictions, targets, "multiclass_hinge_loss") == "ids":
        targets = pt.eq(pt.arange(predictions.shape[-1]), targets[..., None])
    is_target = pt.gt(targets, 0)
    correct = pt.sum(pt.switch(is_target, predictions, 0), axis=-1)
    rest = pt.max(pt.switch(is_target, -np.inf, predictions), axis=-1)
    return pt.maximum(0, rest - correct + delta)


def huber_loss(predictions, targets, delta=1):
    """Elementwise Huber loss: quadratic for small errors, linear for large ones.

    ``0.5 * d**2`` where ``|d| <= delta``, else ``delta * (|d| - delta / 2)``, for
    ``d = predictions - targets``.

    Parameters
    ----------
    predictions : tensor, any shape
    targets : tensor, same shape (or ``(N,)`` for predictions ``(N, 1)``)
    delta : float
        Where the loss turns linear.

    Returns
    -------
    tensor
        Same shape as ``predictions``.

    Examples
    --------
    >>> huber_loss(pt.constant(np.array([0.5, 3.0])), np.array([0.0, 0.0])).eval()
    array([0.125, 2.5  ])
    """
    predictions, targets = _align_targets(predictions, targets)
    abs_diff = abs(predictions - targets)
    quadratic = 0.5 * (predictions - targets) ** 2
    linear = delta * (abs_diff - 0.5 * delta)
    return pt.switch(abs_diff <= delta, quadratic, linear)


def binary_accuracy(predictions, targets, threshold=0.5):
    """Elementwise correctness of thresholded binary predictions.

    Parameters
    ----------
    predictions : tensor, any shape
        Probabilities (or scores, with a suitable ``threshold``).
    targets : tensor, same shape
        ``{0, 1}`` labels.
    threshold : float
        Predictions ``>= threshold`` count as 1.

    Returns
    -------
    tensor of bool
        Same shape as ``predictions``; its mean is the accuracy.

    Examples
    --------
    >>> p = pt.constant(np.array([0.2, 0.7, 0.5]))
    >>> binary_accuracy(p, np.array([0, 0, 1])).eval()
    array([ True, False,  True])
    """
    predictions, targets = _align_targets(predictions, targets)
    return pt.eq(pt.ge(predictions, threshold), targets)


def categorical_accuracy(predictions, targets, top_k=1):
    """Whether the target class is among the ``top_k`` highest predictions, one value per row.

    Parameters
    ----------
    predictions : tensor, shape ``(N, C)``
        Class scores or probabilities (leading axes beyond the first are allowed).
    targets : tensor, shape ``(N,)`` of integer class ids, or ``(N, C)``
        Class ids, or distributions whose argmax is the target class.
    top_k : int
        Count a row as correct if the target is among its ``top_k`` largest predictions.

    Returns
    -------
    tensor of bool
        Shape ``(N,)``; its mean is the accuracy.

    Raises
    ------
    TypeError
        If the ranks do not fit.
    ValueError
        If ``top_k`` is not a positive int.

    Examples
    --------
    >>> p = pt.constant(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    >>> t = np.array([2, 0], dtype='int32')
    >>> categorical_accuracy(p, t).eval(), categorical_accuracy(p, t, top_k=2).eval()
    (array([False,  True]), array([ True,  True]))
    """
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k {top_k!r} is not a positive int")
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    if _class_targets(predictions, targets, "categorical_accuracy") == "dist":
        targets = pt.argmax(targets, axis=-1)
    if top_k == 1:
        return pt.eq(pt.argmax(predictions, axis=-1), targets)
    top = pt.argsort(predictions, axis=-1)[..., -top_k:]
    return pt.any(pt.eq(top, targets[..., None]), axis=-1)


def aggregate(loss, weights=None, mode="mean"):
    """Reduce an elementwise loss to a scalar, optionally weighting its elements.

    Parameters
    ----------
    loss : tensor, any shape
        An elementwise loss.
    weights : tensor, optional
        Broadcastable to ``loss`` (e.g. a ``(N, T)`` mask of valid time steps).
    mode : {'mean', 'sum', 'normalized_sum'}
        ``'mean'``: mean of the (weighted) elements; ``'sum'``: their sum;
        ``'normalized_sum'``: the weighted sum divided by ``weights.sum()`` (requires
        ``weights``; the right reduction for masked sequences).

    Returns
    -------
    scalar tensor

    Raises
    ------
    ValueError
        For an unknown ``mode``, or ``'normalized_sum'`` without ``weights``.

    Examples
    --------
    >>> loss = pt.constant(np.array([1.0, 2.0, 3.0]))
    >>> w = np.array([1.0, 1.0, 0.0])
    >>> [float(aggregate(loss, w, mode=m).eval()) for m in ('mean', 'sum', 'normalized_sum')]
    [1.0, 3.0, 1.5]
    """
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(map(repr, MODES))}")
    loss = as_theano_expression(loss)
    if weights is not None:
        weights = as_theano_expression(weights)
        loss = loss * weights
    if mode == "mean":
        return loss.mean()
    if mode == "sum":
        return loss.sum()
    if weights is None:
        raise ValueError("mode 'normalized_sum' requires weights; got weights=None")
    return loss.sum() / weights.sum()
