"""rnnlab's fast path: PyTensor ops for the work a recurrent network spends its time on.

Each op is an ordinary PyTensor op: a ``perform`` (the Python backends: CVM, FAST_COMPILE), a
gradient through ``pullback``, a NUMBA translation that calls the op's compiled kernel
(:mod:`~rnnlab.nn.ops.kernels`) and a JAX one (:mod:`~rnnlab.nn.ops.jax_dispatch`).  Building a graph with them never depends on the compile mode.

=====================  =====================================================================
``recurrence``         :class:`FusedRecurrence`: a whole Elman, LSTM or GRU sequence as one op
``embedding``          :class:`EmbeddingProjection`: ``table[ids] @ W`` as one op
``crossentropy``       :class:`SoftmaxCrossEntropy`: ``-log softmax(logits)[target]`` as one op
``scan_mode``          FAST_COMPILE functions compile rnnlab's scans' inner graphs in FAST_COMPILE
``jax_dispatch``       the ops' JAX translations (loaded by ``jax_rewrites`` when JAX compiles)
``linker``             the NUMBA linker whose outputs stay C-contiguous (one compile per graph)
``runtime``            :func:`prepare`: that linker, the kernels' BLAS bound, SciPy's BLAS on one
                       thread (one explicit call; importing configures nothing)
``kernels``            the compiled loops
=====================  =====================================================================
"""

from . import jax_rewrites, scan_mode
from .crossentropy import SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad
from .embedding import EmbeddingProjection, EmbeddingProjectionGrad, EmbeddingProjectionRewrite
from .recurrence import FusedRecurrence, FusedRecurrenceGrad, fused_recur
from .runtime import prepare

__all__ = ["FusedRecurrence", "FusedRecurrenceGrad", "fused_recur", "EmbeddingProjection",
           "EmbeddingProjectionGrad", "EmbeddingProjectionRewrite", "SoftmaxCrossEntropy",
           "SoftmaxCrossEntropyGrad", "prepare", "OPTIONAL_MODULES"]

#: The modules of this package that import an optional dependency at module level, with the
#: dependency: importable only where it is installed (JAX is not part of the basic set-up).
OPTIONAL_MODULES = {"rnnlab.nn.ops.jax_dispatch": "jax"}
