"""Vectorisable elementwise math for the compiled kernels: ``exp``, ``sigmoid``, ``tanh`` in place.

With ``fast=True`` (float32) the exponential is computed by range reduction and a degree-7
polynomial (relative error < 2e-7, float32's own precision) in loops the compiler vectorises;
``fast=False`` (float64) uses the C library's ``exp`` and ``tanh``; the fast ``tanh`` is
``2 sigmoid(2x) - 1``.  Each fast function makes two passes: a polynomial and the float32 bits
of its power-of-two scale (pass one), then the scale and the function's own arithmetic.  NaN
inputs give NaN outputs (the training loop must see a NaN loss); +-inf give the limits.
"""

import math

import numba
import numpy as np

__all__ = ["jit", "exp_", "sigmoid_", "tanh_"]

_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)           # ln 2 split in two for an exact range reduction
_LN2_LO = np.float32(-2.12194440e-4)

#: Contracted multiply-adds but no "no NaN/inf" assumptions: NaNs must propagate (the training
#: loop stops on a NaN loss); division by zero follows IEEE (``error_model="numpy"``).
jit = numba.njit(cache=True, fastmath={"contract", "afn"}, nogil=True, error_model="numpy")


@jit
def _reduce(x, ibuf, sign):
    """First pass: ``x[k] = p(r_k)`` and ``ibuf[k]`` = the float32 bits of ``2**j_k``, where
    ``sign * x[k] = j_k ln2 + r_k``, ``|r_k| <= ln2 / 2``; so ``exp(sign * x[k]) = x[k] * 2**j_k``.
    A NaN input gets NaN bits, so NaN propagates through the second pass."""
    n = x.shape[0]
    for k in range(n):
        v = sign * x[k]
        nan = v != v
        v = min(max(v, np.float32(-87.0)), np.float32(88.0))
        if nan:
            v = np.float32(0.0)
        j = np.floor(v * _LOG2E + np.float32(0.5))
        r = v - j * _LN2_HI - j * _LN2_LO
        p = np.float32(1.0 / 5040.0)
        p = p * r + np.float32(1.0 / 720.0)
        p = p * r + np.float32(1.0 / 120.0)
        p = p * r + np.float32(1.0 / 24.0)
        p = p * r + np.float32(1.0 / 6.0)
        p = p * r + np.float32(0.5)
        p = p * r + np.float32(1.0)
        x[k] = p * r + np.float32(1.0)
        ibuf[k] = np.int32(0x7FC00000) if nan else (np.int32(j) + np.int32(127)) << np.int32(23)
    return ibuf[:n].view(np.float32)


@jit
def exp_(x, ibuf, fast):
    """In place ``x[:] = exp(x)`` for a contiguous 1-d array; ``ibuf``: int32, at least as long.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, -np.inf], dtype=np.float32)
    >>> exp_(x, np.empty(3, np.int32), True); x.round(6).tolist()
    [1.0, 2.718282, 0.0]
    """
    if not fast:
        for k in range(x.shape[0]):
            x[k] = math.exp(x[k])
        return
    scale = _reduce(x, ibuf, np.float32(1.0))
    for k in range(x.shape[0]):
        x[k] *= scale[k]


@jit
def sigmoid_(x, ibuf, fast):
    """In place ``x[:] = 1 / (1 + exp(-x))`` (see :func:`exp_`): two passes over ``x``.

    Examples
    --------
    >>> x = np.array([0.0, 50.0, -50.0])
    >>> sigmoid_(x, np.empty(3, np.int32), False); x.round(6).tolist()
    [0.5, 1.0, 0.0]
    """
    if not fast:
        for k in range(x.shape[0]):
            x[k] = 1 / (1 + math.exp(-x[k]))
        return
    scale = _reduce(x, ibuf, np.float32(-1.0))
    for k in range(x.shape[0]):
        x[k] = np.float32(1.0) / (np.float32(1.0) + x[k] * scale[k])


@jit
def tanh_(x, ibuf, fast):
    """In place ``tanh``: ``2 sigmoid(2x) - 1`` (see :func:`exp_`): two passes over ``x``.

    Examples
    --------
    >>> x = np.array([0.0, 1.0], dtype=np.float32)
    >>> tanh_(x, np.empty(2, np.int32), True); x.round(6).tolist()
    [0.0, 0.761594]
    """
    if not fast:
        for k in range(x.shape[0]):
            x[k] = math.tanh(x[k])
        return
    scale = _reduce(x, ibuf, np.float32(-2.0))
    for k in range(x.shape[0]):
        x[k] = np.float32(2.0) / (np.float32(1.0) + x[k] * scale[k]) - np.float32(1.0)
