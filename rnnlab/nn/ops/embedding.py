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

:class:`EmbeddingProjectionRewrite` recognises ``table[ids] @ W`` when a function is compiled
(the graph as built, and its gradient, keep PyTensor's ops: the gradient with respect to the
lookup's output is connected like any other), in every mode.  The bias stays outside the op.

Ids follow numpy (and ``table[ids]``): negative ids count from the end; ids outside
``[-V, V)`` raise ``IndexError`` in every mode.  Under the NUMBA backend both ops are compiled into
the function (:mod:`~rnnlab.nn.ops.kernels.embedding`); the Python backends (C/CVM and
FAST_COMPILE) run numpy and scipy in ``perform``.
"""

import numpy as np
import pytensor.tensor as pt
import scipy.sparse
from pytensor.compile import optdb
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import GraphRewriter
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.scalar.basic import Second
from pytensor.tensor.basic import MakeVector, get_underlying_scalar_constant_value
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.exceptions import NotScalarConstantError
from pytensor.tensor.math import Dot
from pytensor.tensor.shape import Reshape, Shape, SpecifyShape
from pytensor.tensor.subtensor import AdvancedIncSubtensor, AdvancedSubtensor, Subtensor

from .kernels import embedding as K
from .kernels import ready
from .kernels.extern import node_caller

__all__ = ["EmbeddingProjection", "EmbeddingProjectionGrad", "EmbeddingProjectionRewrite"]

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
    return node_caller(K.project, node)


@numba_basic.register_funcify_default_op_cache_key(EmbeddingProjectionGrad)
def _numba_backward(op, node, **kwargs):
    return node_caller(K.project_grad, node)


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


def _is_axis(size, var, axis):
    """Whether the symbolic ``size`` is ``var.shape[axis]`` as PyTensor builds it."""
    node = size.owner
    if node is not None and isinstance(node.op, Subtensor) and len(node.inputs) == 2:
        shape, index = node.inputs
        return (shape.owner is not None and isinstance(shape.owner.op, Shape)
                and shape.owner.inputs[0] is var and _constant(index) == axis)
    return False


def _constant(var):
    try:
        return int(get_underlying_scalar_constant_value(var))
    except NotScalarConstantError:
        return None


def _time_major_rows(x2):
    """``(table, ids, xt)`` when ``x2`` is ``xt.reshape((T * B, E))`` of ``xt = table[ids]
    .dimshuffle(1, 0, 2)``, ``ids`` ``(B, T)``: the rows of the time-major lookup."""
    node = x2.owner
    if node is None or not isinstance(node.op, Reshape) or x2.ndim != 2:
        return None
    declared, shape = node.inputs
    xt = _declared(declared)
    if (xt.owner is None or not isinstance(xt.owner.op, DimShuffle)
            or tuple(xt.owner.op.new_order) != (1, 0, 2)):
        return None
    found = _lookup(xt.owner.inputs[0])
    if found is None or found[1].ndim != 2 or shape.owner is None \
            or not isinstance(shape.owner.op, MakeVector) or len(shape.owner.inputs) != 2:
        return None
    width = shape.owner.inputs[1]                   # the rows keep the embedding's width
    if not (_is_axis(width, declared, 2) or _is_axis(width, xt, 2) or _constant(width) in {found[0].type.shape[1],
                                                          xt.type.shape[2]} - {None}):
        return None
    return found[0], found[1], declared


def _declared(var):
    """``var`` without the ``specify_shape`` around it (``unroll_scan`` declares the length)."""
    while var.owner is not None and isinstance(var.owner.op, SpecifyShape):
        var = var.owner.inputs[0]
    return var


def _transposed(var):
    """``m`` when ``var`` is ``m.T`` of a matrix, else None."""
    node = var.owner
    if (node is not None and isinstance(node.op, DimShuffle) and var.ndim == 2
            and tuple(node.op.new_order) == (1, 0)):
        return node.inputs[0]
    return None


def _is_zeros_like(var, like):
    node = var.owner
    return (node is not None and isinstance(node.op, Elemwise)
            and isinstance(node.op.scalar_op, Second) and node.inputs[0] is like
            and _constant(node.inputs[1]) == 0)


class EmbeddingProjectionRewrite(GraphRewriter):
    """Recognise ``table[ids] @ W`` (and its gradient) in a graph; use the two ops instead.

    The forward match is ``dot(xt.reshape((T * B, E)), W)`` with ``xt = table[ids]
    .dimshuffle(1, 0, 2)``: the input projection :func:`~rnnlab.nn.layers.recur` computes for
    the time-major input of a recurrent layer fed by an
    :class:`~rnnlab.nn.layers.EmbeddingLayer`.  It becomes
    ``EmbeddingProjection(table, W, ids.T).reshape((T * B, G))``; the lookup itself stays in the
    graph wherever something else reads it.  The gradient ``pytensor.grad`` built for it, the
    product ``x2.T @ gz`` for ``W`` and ``inc_subtensor(zeros_like(table)[ids], (gz @ W.T)
    ...)`` for the table, becomes one :class:`EmbeddingProjectionGrad` when both are there and
    read the same ``gz`` (otherwise the gradient keeps PyTensor's ops).

    Registered in the optimisation database as ``rnnlab_embedding_projection`` (tags
    ``fast_run``, ``fast_compile``), before any other rewrite, so it sees the graph as built;
    ``mode.excluding("rnnlab_embedding_projection")`` turns it off.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> table, W, ids = pt.dmatrix("table"), pt.dmatrix("W"), pt.imatrix("ids")
    >>> xt = table[ids].dimshuffle(1, 0, 2)
    >>> x2 = xt.reshape((xt.shape[0] * xt.shape[1], xt.shape[2]))
    >>> loss = (pt.dot(x2, W) ** 2).sum()
    >>> f = pytensor.function([table, W, ids], [loss, *pytensor.grad(loss, [table, W])],
    ...                       mode="FAST_COMPILE")
    >>> sorted({type(n.op).__name__ for n in f.maker.fgraph.apply_nodes} & {
    ...     "EmbeddingProjection", "EmbeddingProjectionGrad", "AdvancedIncSubtensor"})
    ['EmbeddingProjection', 'EmbeddingProjectionGrad']
    """

    def apply(self, fgraph):
        for node in list(fgraph.toposort()):
            if node not in fgraph.apply_nodes or not isinstance(node.op, Dot):
                continue
            x2, W = node.inputs
            found = _time_major_rows(x2)
            if found is None or W.ndim != 2 or W.dtype != found[0].dtype:
                continue
            table, ids, declared = found
            ids_tm = ids.T
            if declared.owner is not None and isinstance(declared.owner.op, SpecifyShape):
                ids_tm = pt.specify_shape(ids_tm, declared.owner.inputs[1:3])  # still checked
            proj = EmbeddingProjection()(table, W, ids_tm)
            replacements = [(node.outputs[0],
                             proj.reshape((x2.shape[0], W.shape[1])))]
            replacements += self._gradient(fgraph, x2, W, table, ids, ids_tm)
            fgraph.replace_all_validate(replacements, reason="rnnlab_embedding_projection")

    @staticmethod
    def _gradient(fgraph, x2, W, table, ids, ids_tm):
        """The replacements of the gradient's two products, or none."""
        dW = None
        for client, _ in fgraph.clients[x2]:
            inner = getattr(client, "outputs", [None])[0]
            if _transposed(inner) is x2:
                for user, i in fgraph.clients[inner]:
                    if isinstance(getattr(user, "op", None), Dot) and i == 0:
                        dW = user
        if dW is None:
            return []
        gz = dW.inputs[1]
        dtable = None
        zeros = [c.outputs[0] for c, _ in fgraph.clients[table]
                 if hasattr(c, "outputs") and _is_zeros_like(c.outputs[0], table)]
        for client, _ in [pair for z in zeros for pair in fgraph.clients[z]]:
            op = getattr(client, "op", None)
            if (isinstance(op, AdvancedIncSubtensor) and not op.set_instead_of_inc
                    and len(client.inputs) == 3 and client.inputs[2] is ids
                    and _gradient_of_rows(client.inputs[1], gz, W)):
                dtable = client
        if dtable is None:
            return []
        g = gz.reshape((ids.shape[1], ids.shape[0], W.shape[1]))
        d_table, d_W = EmbeddingProjectionGrad()(table, W, ids_tm, g)
        return [(dtable.outputs[0], d_table), (dW.outputs[0], d_W)]


def _gradient_of_rows(gx, gz, W):
    """Whether ``gx`` is ``(gz @ W.T).reshape(xt.shape).dimshuffle(1, 0, 2)``."""
    node = gx.owner
    if (node is None or not isinstance(node.op, DimShuffle)
            or tuple(node.op.new_order) != (1, 0, 2)):
        return False
    reshaped = _declared(node.inputs[0]).owner
    if reshaped is None or not isinstance(reshaped.op, Reshape):
        return False
    product = reshaped.inputs[0].owner
    return (product is not None and isinstance(product.op, Dot)
            and product.inputs[0] is gz and _transposed(product.inputs[1]) is W)


optdb.register("rnnlab_embedding_projection", EmbeddingProjectionRewrite(), "fast_run",
               "fast_compile", position=0.005)
