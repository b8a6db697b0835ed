"""Compiled loops behind :mod:`~rnnlab.nn.ops.crossentropy`: softmax cross-entropy and its gradient.

One pass over each row of ``(N, V)`` logits for the loss (keeping the row's log-sum-exp), one for
the gradient ``(softmax - onehot) * g``.  ``fast`` (float32) evaluates the exponential with
:mod:`~rnnlab.nn.ops.kernels.fastmath`'s vectorisable one.
"""

import numpy as np

from .fastmath import exp_, jit

__all__ = ["forward", "backward", "checked_forward", "cast_backward"]


@jit
def forward(logits, targets, fast):
    """Per row: ``lse = log(sum(exp(x)))`` and ``loss = lse - x[target]``; -1 marks a bad target."""
    N, V = logits.shape
    loss = np.empty(N, logits.dtype)
    lse = np.empty(N, logits.dtype)
    row = np.empty(V, logits.dtype)
    ibuf = np.empty(V, np.int32)
    for n in range(N):
        x = logits[n]
        top = x[0]
        for v in range(1, V):
            top = max(top, x[v])
        for v in range(V):
            row[v] = x[v] - top
        exp_(row, ibuf, fast)
        total = row.sum()
        lse[n] = top + np.log(total)
        k = targets[n]
        if k < 0 or k >= V:
            return loss, lse, n
        loss[n] = (top - x[k]) + np.log(total)         # no cancellation when x[k] is the max
    return loss, lse, -1


@jit
def backward(logits, targets, lse, g, fast):
    N, V = logits.shape
    d = np.empty((N, V), logits.dtype)
    ibuf = np.empty(V, np.int32)
    for n in range(N):
        row = d[n]
        for v in range(V):
            row[v] = logits[n, v] - lse[n]
        exp_(row, ibuf, fast)
        for v in range(V):
            row[v] *= g[n]
        row[targets[n]] -= g[n]
    return d


@jit
def checked_forward(logits, targets, fast):
    """The op's forward pass under NUMBA: ``(loss, lse)``, lengths and targets checked."""
    if logits.shape[0] != targets.shape[0]:
        raise ValueError("softmax_crossentropy: logits and targets differ in length")
    loss, lse, bad = forward(logits, targets, fast)
    if bad >= 0:
        raise ValueError("softmax_crossentropy: a target is outside [0, number of classes)")
    return loss, lse


@jit
def cast_backward(logits, targets, lse, g, fast):
    """The op's gradient under NUMBA (``g`` cast to the logits' dtype)."""
    return backward(logits, targets, lse, g.astype(logits.dtype), fast)
