"""Compiled (Numba) loops behind :mod:`~rnnlab.nn.ops.embedding`: ``table[ids] @ W``.

``table`` ``(V, E)`` and ``W`` ``(E, G)`` are C-contiguous arrays of one float dtype; ``ids`` is a
flat ``(n,)`` int64 array of rows in ``[0, V)`` (:func:`flat_ids` checks and wraps them);
``g`` ``(n, G)`` is the gradient of the output rows.  ``via_table`` picks the algebra:

``True``   ``P = table @ W`` ``(V, G)`` once, then rows ``P[ids]``; backward scatter-adds ``g``
           into ``dP`` ``(V, G)``, then ``dtable = dP @ W.T`` and ``dW = table.T @ dP``
``False``  rows ``X = table[ids]`` ``(n, E)``, then ``X @ W``; backward ``dW = X.T @ g`` and
           ``dX = g @ W.T`` scatter-added into ``dtable``

Both give the same values up to float rounding; the first costs ``V`` rows of matrix products
instead of ``n``, so it is the cheaper one when ``n > V`` (:func:`via_table`).
"""

import numpy as np

from .fastmath import jit

__all__ = ["via_table", "flat_ids", "forward", "backward", "project", "project_grad"]


@jit
def via_table(n_ids, n_rows):
    """Whether to project the whole table first: more ids than rows.

    Examples
    --------
    >>> via_table(2048, 65), via_table(1, 65)
    (True, False)
    """
    return n_ids > n_rows


@jit
def flat_ids(ids, n_rows):
    """``ids`` (C-contiguous, any shape and integer dtype) as flat int64 rows in ``[0, n_rows)``.

    Negative ids count from the end, as in numpy indexing.  Returns ``(rows, bad)``: ``bad`` is
    the flat position of the first id outside ``[-n_rows, n_rows)``, or -1 when all are valid
    (then ``rows`` is complete; otherwise it must not be used).

    Examples
    --------
    >>> rows, bad = flat_ids(np.array([[0, -1], [2, 1]]), 3)
    >>> rows.tolist(), bad
    ([0, 2, 2, 1], -1)
    >>> flat_ids(np.array([1, 3]), 3)[1]
    1
    """
    n = ids.size
    src = ids.reshape(n)
    rows = np.empty(n, np.int64)
    for k in range(n):
        v = src[k]
        if v < 0:
            r = np.int64(v) + n_rows
            if r < 0:
                return rows, k
        elif v >= n_rows:
            return rows, k
        else:
            r = np.int64(v)
        rows[k] = r
    return rows, -1


@jit
def _gather(src, rows):
    """``src[rows]`` for a 2-d ``src``: ``(len(rows), src.shape[1])``."""
    n, width = rows.shape[0], src.shape[1]
    out = np.empty((n, width), src.dtype)
    for k in range(n):
        r = rows[k]
        for j in range(width):
            out[k, j] = src[r, j]
    return out


@jit
def _scatter_add(values, rows, n_rows):
    """``out[rows[k]] += values[k]`` into zeros ``(n_rows, values.shape[1])``."""
    width = values.shape[1]
    out = np.zeros((n_rows, width), values.dtype)
    for k in range(rows.shape[0]):
        r = rows[k]
        for j in range(width):
            out[r, j] += values[k, j]
    return out


@jit
def forward(table, W, rows, via_table):
    """``table[rows] @ W``, shape ``(n, G)`` (see the module docstring for ``via_table``).

    Examples
    --------
    >>> table, W = np.arange(6.).reshape(3, 2), np.array([[1.0], [10.0]])
    >>> rows = np.array([2, 0, 2])
    >>> [forward(table, W, rows, via).ravel().tolist() for via in (True, False)]
    [[54.0, 10.0, 54.0], [54.0, 10.0, 54.0]]
    """
    if via_table:
        return _gather(np.dot(table, W), rows)
    return np.dot(_gather(table, rows), W)


@jit
def backward(table, W, rows, g, via_table):
    """The gradients ``(dtable (V, E), dW (E, G))`` of ``sum(g * (table[rows] @ W))``.

    Examples
    --------
    >>> table, W = np.arange(6.).reshape(3, 2), np.array([[1.0], [10.0]])
    >>> dtable, dW = backward(table, W, np.array([2, 0, 2]), np.ones((3, 1)), True)
    >>> dtable.tolist(), dW.ravel().tolist()
    ([[1.0, 10.0], [0.0, 0.0], [2.0, 20.0]], [8.0, 11.0])
    """
    n_rows = table.shape[0]
    W_t = np.ascontiguousarray(W.T)
    if via_table:
        dP = _scatter_add(g, rows, n_rows)
        return np.dot(dP, W_t), np.dot(np.ascontiguousarray(table.T), dP)
    X_t = np.ascontiguousarray(_gather(table, rows).T)
    return _scatter_add(np.dot(g, W_t), rows, n_rows), np.dot(X_t, g)


_BAD_ID = "EmbeddingProjection: an id is outside [-V, V) for an embedding table of V rows"
_BAD_SIZES = "EmbeddingProjection: table columns and W rows differ"
_BAD_GRAD = "EmbeddingProjectionGrad: g's shape is not ids.shape + (G,)"


@jit
def project(table, W, ids):
    """The op's forward pass: ``table[ids] @ W``, shape ``ids.shape + (G,)``, sizes checked.

    Examples
    --------
    >>> table, W = np.arange(6.).reshape(3, 2), np.array([[1.0], [10.0]])
    >>> project(table, W, np.array([[2, 0]])).tolist()
    [[[54.0], [10.0]]]
    """
    if table.shape[1] != W.shape[0]:
        raise ValueError(_BAD_SIZES)
    rows, bad = flat_ids(ids, table.shape[0])
    if bad >= 0:
        raise IndexError(_BAD_ID)
    out = forward(table, W, rows, via_table(rows.shape[0], table.shape[0]))
    return out.reshape(ids.shape + (W.shape[1],))


@jit
def project_grad(table, W, ids, g):
    """The op's gradient: ``(dtable, dW)`` of ``sum(g * project(table, W, ids))``, checked.

    Examples
    --------
    >>> table, W = np.arange(6.).reshape(3, 2), np.array([[1.0], [10.0]])
    >>> dtable, dW = project_grad(table, W, np.array([2, 0, 2]), np.ones((3, 1)))
    >>> dW.ravel().tolist()
    [8.0, 11.0]
    """
    if table.shape[1] != W.shape[0]:
        raise ValueError(_BAD_SIZES)
    if g.shape != ids.shape + (W.shape[1],):
        raise ValueError(_BAD_GRAD)
    rows, bad = flat_ids(ids, table.shape[0])
    if bad >= 0:
        raise IndexError(_BAD_ID)
    n = rows.shape[0]
    return backward(table, W, rows, g.reshape((n, W.shape[1])), via_table(n, table.shape[0]))
