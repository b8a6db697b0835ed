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

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from numba.core.registry import CPUDispatcher
from pytensor.compile import optdb
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import WalkingGraphRewriter, node_rewriter
from pytensor.link.numba.dispatch import basic as numba_basic

from .kernels import ready
from .kernels import recurrent as K
from .kernels.extern import node_caller

__all__ = ["Kind", "KINDS", "FusedRecurrence", "FusedRecurrenceGrad", "fused_recur"]


@dataclass(frozen=True)
class Kind:
    """One kind of recurrence as the ops and the kernels lay it out (see :data:`KINDS`).

    The forward op's inputs are ``xp, W, mask``, the initial states, then the extra weights; its
    outputs are the state sequences, then the arrays saved for the backward pass.  The gradient
    op's inputs are the forward inputs but ``xp``, the forward outputs and the gradients of the
    state sequences; its outputs the gradients of ``xp``, ``W``, the initial states and the extra
    weights.  The kernels take the same arrays in the same order, then the option.

    Attributes
    ----------
    states : tuple of str
        The state names in the one order used everywhere: the cell's ``state_names``, the ops'
        inputs and outputs, the kernels' arguments.
    extra : int
        Extra weight inputs after the initial states (LSTM: the peepholes ``P`` ``(3, U)``);
        they are used, and their gradients connected, only when the option is on.
    saved : int
        Outputs after the state sequences, shaped ``(T, B, G)`` and ``(T, B, U)``: the
        pre-activations ``A`` and one more array the backward pass reuses.
    option : str or None
        The op property passed to the kernels after the arrays (``'relu'``, ``'peepholes'``).
    forward, backward : numba dispatcher
        The kernels (:mod:`~rnnlab.nn.ops.kernels.recurrent`).

    Examples
    --------
    >>> lstm = KINDS["lstm"]
    >>> lstm.states, lstm.n_inputs, lstm.n_outputs
    (('hid', 'cell'), 6, 4)
    """

    states: tuple
    extra: int
    saved: int
    option: str | None
    forward: CPUDispatcher
    backward: CPUDispatcher

    @property
    def n_inputs(self):
        """The forward op's inputs: ``xp, W, mask``, the initial states, the extra weights."""
        return 3 + len(self.states) + self.extra

    @property
    def n_outputs(self):
        """The forward op's outputs: the state sequences and the saved arrays."""
        return len(self.states) + self.saved

    @property
    def extra_inputs(self):
        """The forward op's input positions of the extra weights."""
        return range(self.n_inputs - self.extra, self.n_inputs)

    @property
    def grads_of(self):
        """The gradient op's inputs (``xp`` left out) whose gradients it returns after ``dxp``:
        ``W``, the initial states and the extra weights (``mask`` has none)."""
        return [0] + list(range(2, self.n_inputs - 1))

    @property
    def like_xp(self):
        """The gradient op's input that ``dxp`` is shaped like and, in place, overwrites: the
        first after the state sequences (the saved ``A``; Elman: the gradient ``dH``)."""
        return self.n_inputs - 1 + len(self.states)

    @property
    def destroys(self):
        """In place: ``(forward, gradient)`` destroy maps.  The forward op writes its first
        ``(T, B, G)`` output (``A``; Elman: ``H``) over ``xp``, the gradient op ``dxp`` over
        :attr:`like_xp`."""
        first = len(self.states) if self.saved else 0
        return {first: [0]}, {0: [self.like_xp]}


#: The fused kinds.
KINDS = {
    "elman": Kind(("hid",), 0, 0, "relu", K.elman_forward, K.elman_backward),
    "lstm": Kind(("hid", "cell"), 1, 2, "peepholes", K.lstm_forward, K.lstm_backward),
    "gru": Kind(("hid",), 0, 2, None, K.gru_forward, K.gru_backward),
}
_OPTIONS = ("relu", "peepholes")


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
        for name in _OPTIONS:
            if getattr(self, name) and self.spec.option != name:
                raise ValueError(f"{name}=True: not an option of kind={kind!r}")
        if self.inplace:
            self.destroy_map = self.spec.destroys[isinstance(self, FusedRecurrenceGrad)]

    @property
    def spec(self):
        """This op's :class:`Kind`."""
        return KINDS[self.kind]

    def _option(self):
        return (getattr(self, self.spec.option),) if self.spec.option else ()

    def _unused_extra(self):
        """The extra weights' input positions when the option is off (they are then unused)."""
        return () if any(self._option()) else self.spec.extra_inputs

    def _params(self):
        return (self.kind, self.gradient_steps, self.grad_clipping, self.peepholes, self.relu)

    def _kernel_flags(self, dtype):
        """What the kernels take after the arrays."""
        raise NotImplementedError

    def _kernel(self):
        raise NotImplementedError

    def perform(self, node, inputs, output_storage):
        ready()
        arrays = [np.ascontiguousarray(x) for x in inputs]
        outputs = self._kernel()(*arrays, *self._kernel_flags(node.inputs[0].dtype))
        if not isinstance(outputs, tuple):
            outputs = (outputs,)
        for storage, value in zip(output_storage, outputs):
            storage[0] = value


def _tensor(dtype, shape):
    return pt.tensor(dtype=dtype, shape=shape)


class FusedRecurrence(_FusedBase):
    """The forward pass of a whole recurrence: one op for all time steps.

    Inputs (time-major): ``xp`` ``(T, B, G)`` the projected inputs (with bias), ``W`` ``(U, G)``,
    ``mask`` ``(T, B)`` (same dtype; nonzero = real step), ``h0`` ``(B, U)``, and for ``lstm``
    also ``c0`` ``(B, U)`` and the peephole weights ``P`` ``(3, U)`` (ignored unless
    ``peepholes``).  ``G`` is ``U``, ``4 U`` (gates i, f, g, o) or ``3 U`` (r, u, c).
    :data:`KINDS` describes each kind's layout.

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
        spec = self.spec
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        if len(inputs) != spec.n_inputs:
            raise TypeError(f"{self.kind}: expected {spec.n_inputs} inputs, got {len(inputs)}")
        xp, W = inputs[:2]
        dtype = xp.dtype
        if any(x.dtype != dtype for x in inputs):
            raise TypeError(f"all inputs must have dtype {dtype}, got "
                            f"{[x.dtype for x in inputs]}")
        outputs = [_tensor(dtype, shape) for shape in self._shapes(xp.type.shape, W.type.shape)]
        return Apply(self, inputs, outputs)

    def _shapes(self, xp_shape, W_shape):
        """The outputs' shapes from those of ``xp`` and ``W`` (static or symbolic)."""
        T, B, G = xp_shape
        U = W_shape[0]
        saved = [(T, B, G), (T, B, U)][:self.spec.saved]
        return [(T, B, U)] * len(self.spec.states) + saved

    def _kernel(self):
        return self.spec.forward

    def _kernel_flags(self, dtype):
        return (*self._option(), dtype == "float32", self.inplace)

    def infer_shape(self, fgraph, node, shapes):
        return self._shapes(shapes[0], shapes[1])

    def connection_pattern(self, node):
        n_out = len(node.outputs)
        pattern = [[True] * n_out for _ in node.inputs]
        pattern[2] = [False] * n_out                      # the mask
        for i in self._unused_extra():
            pattern[i] = [False] * n_out
        return pattern

    def pullback(self, inputs, outputs, output_grads):
        n_states = len(self.spec.states)
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
        for i in self._unused_extra():
            result[i] = disconnected_type()
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
        spec = self.spec
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        expected = spec.n_inputs - 1 + spec.n_outputs + len(spec.states)
        if len(inputs) != expected:
            raise TypeError(f"{self.kind}: expected {expected} inputs, got {len(inputs)}")
        outputs = [inputs[spec.like_xp].type()] + [inputs[i].type() for i in spec.grads_of]
        return Apply(self, inputs, outputs)

    def _kernel(self):
        return self.spec.backward

    def _kernel_flags(self, dtype):
        return (*self._option(), self.gradient_steps, self.grad_clipping, self.inplace)

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[self.spec.like_xp]] + [shapes[i] for i in self.spec.grads_of]


@numba_basic.register_funcify_default_op_cache_key(FusedRecurrence)
@numba_basic.register_funcify_default_op_cache_key(FusedRecurrenceGrad)
def _numba_fused(op, node, **kwargs):
    # The kernels are called by symbol (rnnlab.nn.ops.kernels.extern), not compiled into each graph.
    return node_caller(op._kernel(), node, op._kernel_flags(node.inputs[0].dtype))


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
        From a cell's ``fused_spec()``: ``kind`` (a key of :data:`KINDS`), ``W_hid`` ``(U, G)``,
        optionally ``extra`` (the kind's extra weights) and the kind's option (``relu``,
        ``peepholes``: bool).
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
    kind = KINDS[spec["kind"]]
    dtype = x_proj.dtype
    W = pt.cast(spec["W_hid"], dtype)
    if mask is None:
        mask = pt.ones(x_proj.shape[:2], dtype=dtype)
    inputs = [x_proj, W, mask, *init_states, *spec.get("extra", ())]
    options = {name: bool(spec.get(name, False)) for name in _OPTIONS}
    op = FusedRecurrence(spec["kind"], gradient_steps, grad_clipping or 0.0, **options)
    return op(*[pt.cast(x, dtype) for x in inputs], return_list=True)[:len(kind.states)]
