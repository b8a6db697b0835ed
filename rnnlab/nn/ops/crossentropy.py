"""Softmax cross-entropy from logits as one fused op (forward and gradient in compiled loops).

``-log_softmax(logits)[n, target_n]`` built from PyTensor's ops costs a log-softmax, a softmax
for its gradient and an indexing op with its own gradient, each a pass over ``(N, V)``.
:class:`SoftmaxCrossEntropy` does one pass for the loss (keeping each row's log-sum-exp) and
:class:`SoftmaxCrossEntropyGrad` one for ``(softmax - onehot) * g``.  Public entry point:
:func:`rnnlab.nn.objectives.softmax_crossentropy`.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic

from .kernels import crossentropy as K
from .kernels import ready
from .kernels.extern import node_caller

__all__ = ["SoftmaxCrossEntropy", "SoftmaxCrossEntropyGrad"]


def _bad_target(targets, index, V):
    raise ValueError(f"softmax_crossentropy: target {int(targets[index])} at row {index} is "
                     f"outside [0, {V}) (the number of classes)")


class SoftmaxCrossEntropy(Op):
    """``loss[n] = -log(softmax(logits[n])[targets[n]])``: logits ``(N, V)``, int targets ``(N,)``.

    Outputs the losses ``(N,)`` and each row's log-sum-exp ``(N,)`` (kept for the gradient; it
    has none of its own).

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.ops.crossentropy import SoftmaxCrossEntropy
    >>> loss, _ = SoftmaxCrossEntropy()(pt.as_tensor(np.zeros((1, 4))), pt.as_tensor([2]))
    >>> round(float(loss.eval()[0]), 6)     # log(4)
    1.386294
    """

    __props__ = ()

    def make_node(self, logits, targets):
        logits, targets = pt.as_tensor_variable(logits), pt.as_tensor_variable(targets)
        if logits.ndim != 2 or targets.ndim != 1 or not targets.dtype.startswith(("int", "uint")):
            raise TypeError(f"expected logits (N, V) and integer targets (N,), got "
                            f"{logits.type} and {targets.type}")
        out = pt.tensor(dtype=logits.dtype, shape=(logits.type.shape[0],))
        return Apply(self, [logits, targets], [out, out.type()])

    def perform(self, node, inputs, output_storage):
        ready()
        logits, targets = np.ascontiguousarray(inputs[0]), np.ascontiguousarray(inputs[1])
        if logits.shape[0] != targets.shape[0]:
            raise ValueError(f"softmax_crossentropy: {logits.shape[0]} rows of logits but "
                             f"{targets.shape[0]} targets")
        loss, lse, bad = K.forward(logits, targets, logits.dtype == np.float32)
        if bad >= 0:
            _bad_target(targets, bad, logits.shape[1])
        output_storage[0][0], output_storage[1][0] = loss, lse

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0][:1], shapes[0][:1]]

    def connection_pattern(self, node):
        return [[True, True], [False, False]]

    def pullback(self, inputs, outputs, output_grads):
        if not isinstance(output_grads[1].type, DisconnectedType):
            raise NotImplementedError("SoftmaxCrossEntropy: the log-sum-exp output is internal")
        g = output_grads[0]
        if isinstance(g.type, DisconnectedType):
            g = pt.zeros_like(outputs[0])
        logits, targets = inputs
        return [SoftmaxCrossEntropyGrad()(logits, targets, outputs[1], g), disconnected_type()]


class SoftmaxCrossEntropyGrad(Op):
    """``d logits = (softmax(logits) - onehot(targets)) * g[:, None]``, shape ``(N, V)``.

    Inputs: logits ``(N, V)``, targets ``(N,)``, the forward op's log-sum-exp ``(N,)`` and the
    loss gradient ``g`` ``(N,)``.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from rnnlab.nn.ops.crossentropy import SoftmaxCrossEntropy
    >>> x = pt.dmatrix("x")
    >>> loss, _ = SoftmaxCrossEntropy()(x, pt.as_tensor([0]))
    >>> pytensor.grad(loss.sum(), x).eval({x: np.zeros((1, 2))}).tolist()
    [[-0.5, 0.5]]
    """

    __props__ = ()

    def make_node(self, logits, targets, lse, g):
        inputs = [pt.as_tensor_variable(v) for v in (logits, targets, lse, g)]
        return Apply(self, inputs, [inputs[0].type()])

    def perform(self, node, inputs, output_storage):
        ready()
        logits, targets, lse, g = (np.ascontiguousarray(v) for v in inputs)
        output_storage[0][0] = K.backward(logits, targets, lse, g.astype(logits.dtype),
                                         logits.dtype == np.float32)

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0]]


@numba_basic.register_funcify_default_op_cache_key(SoftmaxCrossEntropy)
def _numba_forward(op, node, **kwargs):
    # The loops are called by symbol (rnnlab.nn.ops.kernels.extern), not compiled into each graph.
    return node_caller(K.checked_forward, node, (node.inputs[0].dtype == "float32",))


@numba_basic.register_funcify_default_op_cache_key(SoftmaxCrossEntropyGrad)
def _numba_backward(op, node, **kwargs):
    return node_caller(K.cast_backward, node, (node.inputs[0].dtype == "float32",))
