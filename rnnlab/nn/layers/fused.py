"""Fused recurrences: a whole Elman, LSTM or GRU sequence (and its BPTT) as one PyTensor op.

``pytensor.scan`` runs a recurrence one small graph per time step, paying interpreter overhead per
step and op.  :class:`FusedRecurrence` instead runs all steps in one call of a compiled loop
(:mod:`~rnnlab.nn.layers._kernels`): one matrix product per step for the recurrence and fused
elementwise work; the input projection stays an ordinary (large) matrix product in the graph.  Its
gradient is a second op, :class:`FusedRecurrenceGrad`, returned by ``pullback``, so ``pytensor.grad``
differentiates graphs that contain it like any other; the gradients equal the scan version's.

:func:`~rnnlab.nn.layers.recur` uses it automatically when a cell can be fused (the layers'
default nonlinearities, a plain hidden-to-hidden matrix) and the options allow (no
``unroll_scan``; any mask, ``backwards``, ``gradient_steps``, ``grad_clipping``, peepholes).  The
JAX backend keeps ``scan``.  :func:`use_fused` switches fusion off, e.g. to compare.

Under the NUMBA backend the ops are compiled into the function; the Python backends (C/CVM and
FAST_COMPILE) call the same compiled loops from ``perform``.
"""

import contextlib

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic

from . import _kernels as K

__all__ = ["FusedRecurrence", "FusedRecurrenceGrad", "fused_recur", "use_fused", "fusion_enabled"]

#: Per kind: the state names (in the order of the cell's ``state_names``), the number of stacked
#: gates ``G / U``, and the forward op's extra outputs kept for the backward pass.
KINDS = {"elman": (("hid",), 1, 0), "lstm": (("cell", "hid"), 4, 2), "gru": (("hid",), 3, 2)}

_enabled = [True]


@contextlib.contextmanager
def use_fused(enabled=True):
    """Within the block, recurrent layers build fused ops (``True``) or ``scan`` loops.

    Parameters
    ----------
    enabled : bool

    Examples
    --------
    >>> from rnnlab.nn.layers.fused import use_fused, fusion_enabled
    >>> with use_fused(False):
    ...     fusion_enabled()
    False
    >>> fusion_enabled()
    True
    """
    saved = _enabled[0]
    _enabled[0] = bool(enabled)
    try:
        yield
    finally:
        _enabled[0] = saved


def fusion_enabled():
    """Whether recurrent layers currently build fused ops (see :func:`use_fused`).

    Returns
    -------
    bool

    Examples
    --------
    >>> from rnnlab.nn.layers.fused import fusion_enabled
    >>> fusion_enabled()
    True
    """
    return _enabled[0] and str(pytensor.config.mode).upper() != "JAX"


class _FusedBase(Op):
    __props__ = ("kind", "gradient_steps", "grad_clipping", "peepholes", "relu")

    def __init__(self, kind, gradient_steps=-1, grad_clipping=0.0, peepholes=False, relu=False):
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r}: expected one of {sorted(KINDS)}")
        self.kind = kind
        self.gradient_steps = int(gradient_steps)
        self.grad_clipping = float(grad_clipping)
        self.peepholes = bool(peepholes)
        self.relu = bool(relu)

    def _n_inputs(self):
        return 6 if self.kind == "lstm" else 4


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

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.layers.fused import FusedRecurrence
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
        arrays = [np.ascontiguousarray(x) for x in inputs]
        fast = arrays[0].dtype == np.float32
        if self.kind == "elman":
            outputs = (K.elman_forward(*arrays, self.relu, fast),)
        elif self.kind == "lstm":
            outputs = K.lstm_forward(*arrays, self.peepholes, fast)
        else:
            outputs = K.gru_forward(*arrays, fast)
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
        result = list(FusedRecurrenceGrad(*self._params())(*inputs, *outputs, *grads))
        result.insert(2, disconnected_type())             # the mask
        if self.kind == "lstm" and not self.peepholes:
            result[5] = disconnected_type()
        return result

    def _params(self):
        return (self.kind, self.gradient_steps, self.grad_clipping, self.peepholes, self.relu)


class FusedRecurrenceGrad(_FusedBase):
    """Backpropagation through time for :class:`FusedRecurrence` (same parameters).

    Inputs: the forward op's inputs, its outputs, and the gradients of its state outputs
    (``dH``; ``lstm``: ``dH, dC``).  Outputs: the gradients of ``xp``, ``W``, ``h0`` (and for
    ``lstm`` of ``c0`` and ``P``), with the inputs' shapes.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from rnnlab.nn.layers.fused import FusedRecurrence
    >>> xp = pt.tensor3("xp", dtype="float64")
    >>> H = FusedRecurrence("elman", relu=True)(xp, np.eye(1), np.ones((3, 1)), np.zeros((1, 1)))
    >>> g = pytensor.grad(H.sum(), xp)       # h_t = sum of x up to t: dL/dx_t = T - t
    >>> g.eval({xp: np.ones((3, 1, 1))}).ravel().tolist()
    [3.0, 2.0, 1.0]
    """

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        n_in = self._n_inputs()
        forward = inputs[:n_in]
        wanted = [0, 1, 3] + ([4, 5] if self.kind == "lstm" else [])
        outputs = [forward[i].type() for i in wanted]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        arrays = [np.ascontiguousarray(x) for x in inputs]
        k, clip = self.gradient_steps, self.grad_clipping
        if self.kind == "elman":
            xp, W, mask, h0, H, dH = arrays
            outputs = K.elman_backward(W, mask, h0, H, dH, self.relu, k, clip)
        elif self.kind == "lstm":
            xp, W, mask, h0, c0, P, H, C, A, TC, dH, dC = arrays
            outputs = K.lstm_backward(W, mask, h0, c0, P, self.peepholes, H, C, A, TC, dH, dC,
                                      k, clip)
        else:
            xp, W, mask, h0, H, A, HC, dH = arrays
            outputs = K.gru_backward(W, mask, h0, H, A, HC, dH, k, clip)
        for storage, value in zip(output_storage, outputs):
            storage[0] = value

    def infer_shape(self, fgraph, node, shapes):
        wanted = [0, 1, 3] + ([4, 5] if self.kind == "lstm" else [])
        return [shapes[i] for i in wanted]


@numba_basic.register_funcify_default_op_cache_key(FusedRecurrence)
def _numba_forward(op, node, **kwargs):
    relu, peep = op.relu, op.peepholes
    if op.kind == "elman":
        @numba_basic.numba_njit
        def elman(xp, W, mask, h0):
            c = np.ascontiguousarray
            return K.elman_forward(c(xp), c(W), c(mask), c(h0), relu, xp.itemsize == 4)
        return elman
    if op.kind == "lstm":
        @numba_basic.numba_njit
        def lstm(xp, W, mask, h0, c0, P):
            c = np.ascontiguousarray
            return K.lstm_forward(c(xp), c(W), c(mask), c(h0), c(c0), c(P), peep,
                                  xp.itemsize == 4)
        return lstm

    @numba_basic.numba_njit
    def gru(xp, W, mask, h0):
        c = np.ascontiguousarray
        return K.gru_forward(c(xp), c(W), c(mask), c(h0), xp.itemsize == 4)
    return gru


@numba_basic.register_funcify_default_op_cache_key(FusedRecurrenceGrad)
def _numba_backward(op, node, **kwargs):
    relu, peep, clip, k = op.relu, op.peepholes, op.grad_clipping, op.gradient_steps

    if op.kind == "elman":
        @numba_basic.numba_njit
        def elman_grad(xp, W, mask, h0, H, dH):
            c = np.ascontiguousarray
            return K.elman_backward(c(W), c(mask), c(h0), c(H), c(dH), relu, k, clip)
        return elman_grad
    if op.kind == "lstm":
        @numba_basic.numba_njit
        def lstm_grad(xp, W, mask, h0, c0, P, H, C, A, TC, dH, dC):
            c = np.ascontiguousarray
            return K.lstm_backward(c(W), c(mask), c(h0), c(c0), c(P), peep, c(H), c(C), c(A),
                                   c(TC), c(dH), c(dC), k, clip)
        return lstm_grad

    @numba_basic.numba_njit
    def gru_grad(xp, W, mask, h0, H, A, HC, dH):
        c = np.ascontiguousarray
        return K.gru_backward(c(W), c(mask), c(h0), c(H), c(A), c(HC), c(dH), k, clip)
    return gru_grad


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
    >>> from rnnlab.nn.layers.fused import fused_recur
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
