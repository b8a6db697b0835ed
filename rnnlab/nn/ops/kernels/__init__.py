"""The compiled (Numba) loops behind :mod:`rnnlab.nn.ops`, and what they need from the process.

=================  =========================================================================
``recurrent``      whole-sequence forward and BPTT of the Elman, LSTM and GRU recurrences
``embedding``      ``table[ids] @ W`` and its gradient
``crossentropy``   softmax cross-entropy from logits and its gradient
``fastmath``       vectorisable ``exp``, ``sigmoid``, ``tanh``; the ``jit`` decorator they share
``blas``           BLAS ``?gemm`` by symbol, in place, with transposes
``extern``         calling a cached kernel from a NUMBA graph by symbol
``threads``        :func:`ready`: BLAS symbols bound, Numba's threads started (once, on first use)
=================  =========================================================================

Importing any of them configures nothing; the ops call :func:`ready` before their first kernel.
"""

from .threads import ready

__all__ = ["ready"]
