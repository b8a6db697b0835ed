"""Fused recurrences: a whole Elman, LSTM or GRU sequence (and its BPTT) as one PyTensor op.

``pytensor.scan`` runs a recurrence one small graph per time step, paying interpreter overhead per
step and op.  :class:`FusedRecurrence` instead runs all steps in one call of a compiled loop
(:mod:`~rnnlab.nn.ops.kernels.recurrent`): one matrix product per step for the recurrence and fused
elementwise work; the input projection stays an ordinary (large) matrix product in the graph.  Its
gradient is a second op, :class:`FusedRecurrenceGrad`, returned by ``pullback``, so ``pytensor.grad``
differentiates graphs that contain it like any other; the gradients equal the scan version's.

:func:`~rnnlab.nn.layers.recur` builds it whenever a cell can be fused (the layers' default
nonlinearities, a plain hidden-to-hidden matrix) and the options allow (no ``unroll_scan``; any
mask, ``backwards``, ``gradient_steps``, ``grad_clipping``, peepholes), whatever the compile
mode: the graph is the same for every backend.  A cell with other nonlinearities runs as a
``scan`` of its step (the reference the tests compare the op with).

Under the NUMBA backend the compiled function calls the loops by symbol
(:func:`rnnlab.nn.ops.kernels.extern.extern_call`: they are compiled once per machine, not into every
graph); the Python backends (C/CVM and FAST_COMPILE) call the same loops from ``perform``.
"""

import numpy as np
import pytensor.tensor as pt
from numba import types
from pytensor.compile import optdb
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import WalkingGraphRewriter, node_rewriter
from pytensor.link.numba.dispatch import basic as numba_basic

from .kernels import ready
from .kernels import recurrent as K
from .kernels.extern import extern_call, input_types

__all__ = ["FusedRecurrence", "FusedRecurrenceGrad", "fused_recur"]

#: Per kind: the state names (in the order of the cell's ``state_names``), the number of stacked
#: gates ``G / U``, and the forward op's extra outputs kept for the backward pass.
KINDS = {"elman": (("hid",), 1, 0), "lstm": (("cell", "hid"), 4, 2), "gru": (("hid",), 3, 2)}
#: In place (see :func:`_local_inplace`): which output overwrites which input, per kind, for the
#: forward op (the step pre-activations into ``xp``) and the gradient op (``dxp`` into ``A``;
#: Elman: into ``dH``).
_DESTROYS = {"elman": ({0: [0]}, {0: [4]}), "lstm": ({2: [0]}, {0: [7]}),
             "gru": ({1: [0]}, {0: [4]})}

class _FusedBase(Op):
    __props__ = ("kind", "gradient_steps", "grad_clipping", "peepholes", "relu", "inplace")

    def __init__(self, kind, gradient_steps=-1, grad_clipping=0.0, peepholes=False, relu=False,
                 inplace=False):
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r}: expected one of {sorted(KINDS)}")
        self.kind = kind
        self.gradient_steps = int(gradient_steps)
        self.grad_clipping = float(grad_clipping)
        self.peepholes = bool(peepholes)
        self.relu = bool(relu)
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = _DESTROYS[kind][isinstance(self, FusedRecurrenceGrad)]

    def _n_inputs(self):
        return 6 if self.kind == "lstm" else 4

    def _params(self):
        return (self.kind, self.gradient_steps, self.grad_clipping, self.peepholes, self.relu)


def _tensor(dtype, shape):
    return pt.tensor(dtype=dtype, shape=shape)


class FusedRecurrence(_FusedBase):
    """The forward pass of a whole recurrence: one op for all time steps.

    Inputs (time-major): ``xp`` ``(T, B, G)`` the projected inputs (with bias), ``W`` ``(U, G)``,
    ``mask`` ``(T, B)`` (same dtype; nonzero = real step), ``h0`` ``(B, U)``, and for ``lstm``
    also ``c0`` ``(B, U)`` and the peephole weights ``P`` ``(3, U)`` (ignored unless
    ``peepholes``).  ``G`` is ``U``, ``4 U`` (gates i, f, g, o) or ``3 U`` (r, u, c).

    Outputs: ``H`` ``(T, B, U)`` (``lstm``: ``H, C``), then arrays the backward pass reuses
    (not for use in graphs; their gradients are not defined).

    Parameters
    ----------
    kind : {'elman', 'lstm', 'gru'}
    gradient_steps : int
        -1, or ``k > 0`` to backpropagate through the last ``k`` steps only.
    grad_clipping : float
        Clip the pre-activation gradients to ``[-c, c]`` (0: off).
    peepholes : bool
        LSTM peephole connections.
    relu : bool
        Elman with ``max(0, .)`` instead of ``tanh``.
    inplace : bool
        Overwrite ``xp`` with the gates (Elman: the states); set by a graph rewrite where no
        other computation needs ``xp``, never by hand.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.ops.recurrence import FusedRecurrence
    >>> xp, W, mask, h0 = np.ones((3, 1, 2)), np.eye(2), np.ones((3, 1)), np.zeros((1, 2))
    >>> H = FusedRecurrence("elman", relu=True)(xp, W, mask, h0)
    >>> H.eval()[:, 0].tolist()
    [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
    """

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        if len(inputs) != self._n_inputs():
            raise TypeError(f"{self.kind}: expected {self._n_inputs()} inputs, got {len(inputs)}")
        xp, W = inputs[:2]
        dtype = xp.dtype
        if any(x.dtype != dtype for x in inputs):
            raise TypeError(f"all inputs must have dtype {dtype}, got "
                            f"{[x.dtype for x in inputs]}")
        T, B = xp.type.shape[:2]
        U = W.type.shape[0]
        states = [_tensor(dtype, (T, B, U)) for _ in KINDS[self.kind][0]]
        G = xp.type.shape[2]
        extras = {"elman": [], "lstm": [_tensor(dtype, (T, B, G)), _tensor(dtype, (T, B, U))],
                  "gru": [_tensor(dtype, (T, B, G)), _tensor(dtype, (T, B, U))]}[self.kind]
        return Apply(self, inputs, states + extras)

    def perform(self, node, inputs, output_storage):
        ready()
        arrays = [np.ascontiguousarray(x) for x in inputs]
        fast = arrays[0].dtype == np.float32
        if self.kind == "elman":
            outputs = (K.elman_forward(*arrays, self.relu, fast, self.inplace),)
        elif self.kind == "lstm":
            outputs = K.lstm_forward(*arrays, self.peepholes, fast, self.inplace)
        else:
            outputs = K.gru_forward(*arrays, fast, self.inplace)
        for storage, value in zip(output_storage, outputs):
            storage[0] = value

    def infer_shape(self, fgraph, node, shapes):
        T, B, G = shapes[0]
        U = shapes[1][0]
        n_states = len(KINDS[self.kind][0])
        extras = [] if self.kind == "elman" else [(T, B, G), (T, B, U)]
        return [(T, B, U)] * n_states + extras

    def connection_pattern(self, node):
        n_out = len(node.outputs)
        pattern = [[True] * n_out for _ in node.inputs]
        pattern[2] = [False] * n_out                      # the mask
        if self.kind == "lstm" and not self.peepholes:
            pattern[5] = [False] * n_out
        return pattern

    def pullback(self, inputs, outputs, output_grads):
        n_states = len(KINDS[self.kind][0])
        for g in output_grads[n_states:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError(f"FusedRecurrence({self.kind}): the outputs after the "
                                          "states are internal and have no gradient")
        grads = [pt.zeros_like(out) if isinstance(g.type, DisconnectedType) else g
                 for out, g in zip(outputs[:n_states], output_grads[:n_states])]
        result = list(FusedRecurrenceGrad(*self._params())(*inputs[1:], *outputs, *grads))
        xp = inputs[0]
        if result[0].type != xp.type:                     # Elman: dxp has H's static shape
            result[0] = pt.specify_shape(result[0], xp.type.shape)
        result.insert(2, disconnected_type())             # the mask
        if self.kind == "lstm" and not self.peepholes:
            result[5] = disconnected_type()
        return result


class FusedRecurrenceGrad(_FusedBase):
    """Backpropagation through time for :class:`FusedRecurrence` (same parameters).

    Inputs: the forward op's inputs but ``xp`` (so that ``xp`` can be freed, or overwritten,
    after the forward pass), its outputs, and the gradients of its state outputs (``dH``;
    ``lstm``: ``dH, dC``).  Outputs: the gradients of ``xp``, ``W``, ``h0`` (and for ``lstm``
    of ``c0`` and ``P``), with the inputs' shapes; ``inplace``: ``dxp`` overwrites ``A``
    (Elman: ``dH``).

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from rnnlab.nn.ops.recurrence import FusedRecurrence
    >>> xp = pt.tensor3("xp", dtype="float64")
    >>> H = FusedRecurrence("elman", relu=True)(xp, np.eye(1), np.ones((3, 1)), np.zeros((1, 1)))
    >>> g = pytensor.grad(H.sum(), xp)       # h_t = sum of x up to t: dL/dx_t = T - t
    >>> g.eval({xp: np.ones((3, 1, 1))}).ravel().tolist()
    [3.0, 2.0, 1.0]
    """

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        n_in = self._n_inputs() - 1
        like_xp = inputs[n_in + (2 if self.kind == "lstm" else 1 if self.kind == "gru" else 0)]
        outputs = [like_xp.type()] + [inputs[i].type() for i in self._wanted()]
        return Apply(self, inputs, outputs)

    def _wanted(self):
        """The inputs (without ``xp``) whose gradients are outputs 1...: W, h0 (c0, P)."""
        return [0, 2] + ([3, 4] if self.kind == "lstm" else [])

    def perform(self, node, inputs, output_storage):
        ready()
        arrays = [np.ascontiguousarray(x) for x in inputs]
        k, clip = self.gradient_steps, self.grad_clipping
        if self.kind == "elman":
            outputs = K.elman_backward(*arrays, self.relu, k, clip, self.inplace)
        elif self.kind == "lstm":
            W, mask, h0, c0, P, *rest = arrays
            outputs = K.lstm_backward(W, mask, h0, c0, P, self.peepholes, *rest, k, clip,
                                      self.inplace)
        else:
            outputs = K.gru_backward(*arrays, k, clip, self.inplace)
        for storage, value in zip(output_storage, outputs):
            storage[0] = value

    def infer_shape(self, fgraph, node, shapes):
        n_in = self._n_inputs() - 1
        like_xp = n_in + (2 if self.kind == "lstm" else 1 if self.kind == "gru" else 0)
        return [shapes[like_xp]] + [shapes[i] for i in self._wanted()]


_B, _I, _F = types.boolean, types.int64, types.float64


@numba_basic.register_funcify_default_op_cache_key(FusedRecurrence)
def _numba_forward(op, node, **kwargs):
    # The kernels are called by symbol (rnnlab.nn.ops.kernels.extern), not compiled into each graph.
    relu, peep, inplace, a = op.relu, op.peepholes, op.inplace, input_types(node)
    c = np.ascontiguousarray
    if op.kind == "elman":
        call, version = extern_call(K.elman_forward, a + [_B, _B, _B])

        @numba_basic.numba_njit
        def elman(xp, W, mask, h0):
            return call((c(xp), c(W), c(mask), c(h0), relu, xp.itemsize == 4, inplace))
        return elman, version
    if op.kind == "lstm":
        call, version = extern_call(K.lstm_forward, a + [_B, _B, _B])

        @numba_basic.numba_njit
        def lstm(xp, W, mask, h0, c0, P):
            return call((c(xp), c(W), c(mask), c(h0), c(c0), c(P), peep, xp.itemsize == 4,
                         inplace))
        return lstm, version
    call, version = extern_call(K.gru_forward, a + [_B, _B])

    @numba_basic.numba_njit
    def gru(xp, W, mask, h0):
        return call((c(xp), c(W), c(mask), c(h0), xp.itemsize == 4, inplace))
    return gru, version


@numba_basic.register_funcify_default_op_cache_key(FusedRecurrenceGrad)
def _numba_backward(op, node, **kwargs):
    relu, peep, clip, k, inplace = (op.relu, op.peepholes, op.grad_clipping, op.gradient_steps,
                                    op.inplace)
    a, c = input_types(node), np.ascontiguousarray
    if op.kind == "elman":
        call, version = extern_call(K.elman_backward, a + [_B, _I, _F, _B])

        @numba_basic.numba_njit
        def elman_grad(W, mask, h0, H, dH):
            return call((c(W), c(mask), c(h0), c(H), c(dH), relu, k, clip, inplace))
        return elman_grad, version
    if op.kind == "lstm":
        call, version = extern_call(K.lstm_backward, a[:5] + [_B] + a[5:] + [_I, _F, _B])

        @numba_basic.numba_njit
        def lstm_grad(W, mask, h0, c0, P, H, C, A, TC, dH, dC):
            return call((c(W), c(mask), c(h0), c(c0), c(P), peep, c(H), c(C), c(A), c(TC),
                         c(dH), c(dC), k, clip, inplace))
        return lstm_grad, version
    call, version = extern_call(K.gru_backward, a + [_I, _F, _B])

    @numba_basic.numba_njit
    def gru_grad(W, mask, h0, H, A, HC, dH):
        return call((c(W), c(mask), c(h0), c(H), c(A), c(HC), c(dH), k, clip, inplace))
    return gru_grad, version


@node_rewriter([FusedRecurrence, FusedRecurrenceGrad], inplace=True)
def _local_inplace(fgraph, node):
    """The in-place version of a fused op: its large input is dead after it (the forward op's
    ``xp``, the gradient op's ``A`` or ``dH``) and its memory is reused; the graph's destroy
    handler rejects the change wherever another computation still reads that input."""
    if node.op.inplace:
        return False
    return type(node.op)(*node.op._params(), inplace=True)(*node.inputs, return_list=True)


optdb.register("rnnlab_fused_inplace",
               WalkingGraphRewriter(_local_inplace, failure_callback=WalkingGraphRewriter.warn_inplace),
               "fast_run", "inplace", position=50.1)


def fused_recur(spec, x_proj, mask, init_states, gradient_steps=-1, grad_clipping=0):
    """Run a fused recurrence over time-major inputs; the drop-in for ``scan`` in ``recur``.

    Parameters
    ----------
    spec : dict
        From a cell's ``fused_spec()``: ``kind``, ``W_hid`` ``(U, G)``, and optionally
        ``peepholes`` (three ``(U,)`` vectors) and ``relu``.
    x_proj : tensor, shape ``(T, B, G)``
        The projected inputs, time-major.
    mask : tensor, shape ``(T, B)``, or None
    init_states : list of tensors
        ``(B, U)`` each, in the cell's ``state_names`` order.
    gradient_steps, grad_clipping
        As for :func:`~rnnlab.nn.layers.recur`.

    Returns
    -------
    list of tensors
        The ``(T, B, U)`` state sequences in ``state_names`` order.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.ops.recurrence import fused_recur
    >>> spec = {"kind": "elman", "W_hid": pt.as_tensor(np.eye(2)), "relu": True}
    >>> (hid,) = fused_recur(spec, pt.ones((3, 1, 2), "float64"), None, [np.zeros((1, 2))])
    >>> hid.eval()[-1].tolist()
    [[3.0, 3.0]]
    """
    kind = spec["kind"]
    dtype = x_proj.dtype
    W = pt.cast(spec["W_hid"], dtype)
    if mask is None:
        mask = pt.ones(x_proj.shape[:2], dtype=dtype)
    inputs = [x_proj, W, pt.cast(mask, dtype)]
    peep = spec.get("peepholes")
    if kind == "lstm":
        cell0, hid0 = init_states
        P = pt.stack(peep) if peep is not None else pt.zeros((3, W.shape[0]), dtype=dtype)
        inputs += [pt.cast(hid0, dtype), pt.cast(cell0, dtype), pt.cast(P, dtype)]
    else:
        inputs.append(pt.cast(init_states[0], dtype))
    op = FusedRecurrence(kind, gradient_steps, grad_clipping or 0.0, peep is not None,
                         bool(spec.get("relu", False)))
    outputs = op(*inputs, return_list=True)
    if kind == "lstm":
        H, C = outputs[:2]
        return [C, H]
    return [outputs[0]]
