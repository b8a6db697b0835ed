"""An embedding lookup followed by the input projection, as one op: ``table[ids] @ W``.

A character language model feeds ``x = table[ids]`` (:class:`~rnnlab.nn.layers.EmbeddingLayer`)
to a recurrent layer, whose first work is the input projection ``x @ W_in`` of every time step
(:func:`~rnnlab.nn.layers.recur`'s ``precompute_input``).  Built from PyTensor's ops that is a
``(n, E) @ (E, G)`` product for the ``n = batch * time`` ids, two more of that size in the
gradient, and an ``AdvancedIncSubtensor`` into the table.  But ``table[ids] @ W`` equals
``(table @ W)[ids]``: with fewer table rows ``V`` than ids, :class:`EmbeddingProjection` projects
the table once (``V`` rows instead of ``n``) and picks rows, and its gradient
(:class:`EmbeddingProjectionGrad`) scatter-adds the output gradient into ``dP`` ``(V, G)``, then
``dtable = dP @ W.T`` and ``dW = table.T @ dP``.  With fewer ids than rows (sampling feeds one
character per call; word vocabularies are large) it gathers the rows first instead.  The choice is
made at run time from the sizes, forward and backward alike; both give the same values up to float
rounding.

:func:`lookup_projection` recognises the lookup in the input of a recurrence, and
:func:`~rnnlab.nn.layers.recur` uses it whenever a cell's projection is a plain ``x @ W_in + b``,
whatever the compile mode.  The bias stays outside the op.  A graph built with it no longer
contains ``table[ids]``, so ``pytensor.grad`` with respect to the embedding layer's output
variable finds it disconnected (to be replaced by a graph rewrite, which keeps it connected).

Ids follow numpy (and ``table[ids]``): negative ids count from the end; ids outside
``[-V, V)`` raise ``IndexError`` in every mode.  Under the NUMBA backend both ops are compiled into
the function (:mod:`~rnnlab.nn.ops.kernels.embedding`); the Python backends (C/CVM and
FAST_COMPILE) run numpy and scipy in ``perform``.
"""

import numpy as np
import pytensor.scalar
import pytensor.tensor as pt
import scipy.sparse
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.shape import SpecifyShape
from pytensor.tensor.subtensor import AdvancedSubtensor

from .kernels import embedding as K
from .kernels import ready
from .kernels.extern import extern_call, input_types

__all__ = ["EmbeddingProjection", "EmbeddingProjectionGrad", "lookup_projection"]

_FLOATS = ("float32", "float64")


def _is_ids(var):
    return var.dtype.startswith(("int", "uint"))


def _checked_rows(ids, n_rows):
    """``ids`` as flat int64 rows in ``[0, n_rows)``; IndexError naming the first bad id."""
    flat = ids.reshape(-1)
    bad = np.flatnonzero((flat >= n_rows) | (flat < -n_rows))
    if bad.size:
        where = tuple(int(i) for i in np.unravel_index(bad[0], ids.shape))
        raise IndexError(f"EmbeddingProjection: id {flat[bad[0]]} at index {where} is outside "
                         f"[{-n_rows}, {n_rows}) (the embedding table has {n_rows} rows)")
    rows = flat.astype(np.int64)
    return np.where(rows < 0, rows + n_rows, rows)


def _check_sizes(table, W):
    if table.shape[1] != W.shape[0]:
        raise ValueError(f"EmbeddingProjection: table {table.shape} and W {W.shape} do not "
                         "chain (table columns must equal W rows)")


def _scatter_add(values, rows, n_rows):
    """``out[rows[k]] += values[k]`` into zeros ``(n_rows, width)``, as a sparse product."""
    n = rows.shape[0]
    onehot = scipy.sparse.csr_array((np.ones(n, values.dtype), rows, np.arange(n + 1)),
                                    shape=(n, n_rows))
    return np.asarray(onehot.T @ values, dtype=values.dtype)


class EmbeddingProjection(Op):
    """``table[ids] @ W`` in one op: table ``(V, E)``, W ``(E, G)``, integer ids of any shape.

    The output has shape ``ids.shape + (G,)`` and the table's dtype (float32 or float64, shared
    with ``W``).  Ids have no gradient.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.ops.embedding import EmbeddingProjection
    >>> table, W = np.arange(6.).reshape(3, 2), np.array([[1.0], [10.0]])
    >>> out = EmbeddingProjection()(table, W, pt.as_tensor([[2, 0], [-1, 1]]))
    >>> out.eval()[..., 0].tolist()
    [[54.0, 10.0], [54.0, 32.0]]
    """

    __props__ = ()

    def make_node(self, table, W, ids):
        table, W, ids = (pt.as_tensor_variable(v) for v in (table, W, ids))
        if (table.ndim != 2 or W.ndim != 2 or table.dtype not in _FLOATS
                or W.dtype != table.dtype or not _is_ids(ids)):
            raise TypeError(f"EmbeddingProjection: expected a float32/float64 table (V, E), W "
                            f"(E, G) of the same dtype and integer ids, got {table.type}, "
                            f"{W.type} and {ids.type}")
        out = pt.tensor(dtype=table.dtype, shape=ids.type.shape + (W.type.shape[1],))
        return Apply(self, [table, W, ids], [out])

    def perform(self, node, inputs, output_storage):
        table, W, ids = inputs
        _check_sizes(table, W)
        rows = _checked_rows(ids, table.shape[0])
        if K.via_table(rows.shape[0], table.shape[0]):
            out = np.dot(table, W)[rows]
        else:
            out = np.dot(table[rows], W)
        output_storage[0][0] = out.reshape(ids.shape + (W.shape[1],))

    def infer_shape(self, fgraph, node, shapes):
        return [tuple(shapes[2]) + (shapes[1][1],)]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def pullback(self, inputs, outputs, output_grads):
        table, W, ids = inputs
        g = pt.cast(output_grads[0], outputs[0].dtype)
        dtable, dW = EmbeddingProjectionGrad()(table, W, ids, g)
        return [dtable, dW, disconnected_type()]


class EmbeddingProjectionGrad(Op):
    """The gradients ``(dtable (V, E), dW (E, G))`` of :class:`EmbeddingProjection`.

    Inputs: the forward op's ``table``, ``W``, ``ids`` and the gradient ``g`` of its output,
    shape ``ids.shape + (G,)``.  ``dtable`` sums ``g @ W.T`` over the positions of each id.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from rnnlab.nn.ops.embedding import EmbeddingProjection
    >>> table, W = pt.dmatrix("table"), pt.dmatrix("W")
    >>> out = EmbeddingProjection()(table, W, pt.as_tensor([2, 0, 2]))
    >>> dtable = pytensor.grad(out.sum(), table)
    >>> dtable.eval({table: np.ones((3, 2)), W: np.array([[1.0], [10.0]])}).tolist()
    [[1.0, 10.0], [0.0, 0.0], [2.0, 20.0]]
    """

    __props__ = ()

    def make_node(self, table, W, ids, g):
        table, W, ids, g = (pt.as_tensor_variable(v) for v in (table, W, ids, g))
        if g.dtype != table.dtype or g.ndim != ids.ndim + 1:
            raise TypeError(f"EmbeddingProjectionGrad: g {g.type} must have the table's dtype "
                            f"{table.dtype} and ids.ndim + 1 = {ids.ndim + 1} dimensions")
        return Apply(self, [table, W, ids, g], [table.type(), W.type()])

    def perform(self, node, inputs, output_storage):
        table, W, ids, g = inputs
        _check_sizes(table, W)
        n_rows, G = table.shape[0], W.shape[1]
        if g.shape != ids.shape + (G,):
            raise ValueError(f"EmbeddingProjectionGrad: g has shape {g.shape}, expected "
                             f"ids.shape + (G,) = {ids.shape + (G,)}")
        rows = _checked_rows(ids, n_rows)
        g = g.reshape(rows.shape[0], G)
        if K.via_table(rows.shape[0], n_rows):
            dP = _scatter_add(g, rows, n_rows)
            dtable, dW = np.dot(dP, W.T), np.dot(table.T, dP)
        else:
            dtable = _scatter_add(np.dot(g, W.T), rows, n_rows)
            dW = np.dot(table[rows].T, g)
        output_storage[0][0], output_storage[1][0] = dtable, dW

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0], shapes[1]]


@numba_basic.register_funcify_default_op_cache_key(EmbeddingProjection)
def _numba_forward(op, node, **kwargs):
    # The kernel is called by symbol (rnnlab.nn.ops.kernels.extern), not compiled into each graph.
    call, version = extern_call(K.project, input_types(node))
    c = np.ascontiguousarray

    @numba_basic.numba_njit
    def embedding_projection(table, W, ids):
        return call((c(table), c(W), c(ids)))
    return embedding_projection, version


@numba_basic.register_funcify_default_op_cache_key(EmbeddingProjectionGrad)
def _numba_backward(op, node, **kwargs):
    call, version = extern_call(K.project_grad, input_types(node))
    c = np.ascontiguousarray

    @numba_basic.numba_njit
    def embedding_projection_grad(table, W, ids, g):
        return call((c(table), c(W), c(ids), c(g)))
    return embedding_projection_grad, version


def _lookup(x):
    """``(table, ids)`` when ``x`` is ``table[ids]`` for a 2-d float table and integer ids."""
    node = x.owner
    if (node is None or not isinstance(node.op, AdvancedSubtensor) or len(node.inputs) != 2
            or node.op.idx_list not in ((0,), (0, slice(None)))):
        return None
    table, ids = node.inputs
    if table.ndim != 2 or table.dtype not in _FLOATS or not _is_ids(ids):
        return None
    return table, ids


def lookup_projection(x, W_in, b=None):
    """``dot(x, W_in) + b`` through :class:`EmbeddingProjection` when ``x`` is a lookup, else None.

    ``x`` is the time-major input of :func:`~rnnlab.nn.layers.recur`: ``input.dimshuffle(1, 0,
    2)`` (possibly under a ``specify_shape``) of an ``input = table[ids]`` with ``ids``
    ``(batch, time)``, as :class:`~rnnlab.nn.layers.EmbeddingLayer` builds it.

    Parameters
    ----------
    x : tensor, shape ``(time, batch, E)``
    W_in : tensor, shape ``(E, G)``
    b : tensor, shape ``(G,)``, or None

    Returns
    -------
    tensor, shape ``(time, batch, G)``, or None
        None when ``x`` is anything else; the caller then computes the projection itself.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> table, W = pt.as_tensor(np.eye(3)), pt.as_tensor(np.full((3, 2), 2.0))
    >>> ids = pt.as_tensor(np.array([[0, 1, 2]]))                   # (batch, time)
    >>> x = table[ids].dimshuffle(1, 0, 2)
    >>> lookup_projection(x, W, b=pt.ones(2)).eval()[:, 0].tolist()
    [[3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]
    >>> lookup_projection(pt.tensor3("x"), W) is None
    True
    """
    check = None
    if x.owner is not None and isinstance(x.owner.op, SpecifyShape):
        check, x = x.owner.inputs[1:3], x.owner.inputs[0]
    if (x.owner is None or not isinstance(x.owner.op, DimShuffle)
            or tuple(x.owner.op.new_order) != (1, 0, 2)):
        return None
    found = _lookup(x.owner.inputs[0])
    if found is None or W_in.ndim != 2:
        return None
    table, ids = found
    if ids.ndim != 2:
        return None
    ids = ids.T
    if check is not None:
        ids = pt.specify_shape(ids, check)
    dtype = pytensor.scalar.upcast(table.dtype, W_in.dtype)
    if dtype not in _FLOATS:
        return None
    proj = EmbeddingProjection()(pt.cast(table, dtype), pt.cast(W_in, dtype), ids)
    return proj if b is None else proj + b
