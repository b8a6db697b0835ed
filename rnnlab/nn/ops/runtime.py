"""The process-wide choices that make rnnlab's ops run at full speed, made by one explicit call.

Importing :mod:`rnnlab.nn` changes no setting of the process (it only binds two helpers LLVM may
need, see :mod:`~rnnlab.nn.ops.linker`), and the ops give correct results on PyTensor's own
settings.  :func:`prepare` adds what the fast path wants:

* ``mode="NUMBA"`` compiles with :class:`~rnnlab.nn.ops.linker.ContiguousNumbaLinker` (one
  compile per graph; PyTensor's own linker may compile a training function a second time);
* the kernels' BLAS is bound and Numba's threads are started
  (:func:`rnnlab.nn.ops.kernels.ready`, which the ops also call before their first kernel);
* SciPy's BLAS runs on one thread (:func:`rnnlab.nn.ops.kernels.blas.limit_threads`): the
  kernels call it from each of their own threads.

rnnlab's workflow calls it where it compiles (:func:`rnnlab.model.compile.compile_network`);
Lasagne-style code may call it after :func:`rnnlab.backend.configure` and the imports.
"""

from . import linker
from .kernels import blas, ready

__all__ = ["prepare"]

#: What :func:`prepare` returned, once it ran in this process.
_PREPARED = []


def prepare():
    """Install rnnlab's NUMBA linker, bind the kernels' BLAS, give SciPy's BLAS one thread.

    Idempotent, and cheap after the first call.  Call it before compiling functions that should
    use rnnlab's NUMBA linker (functions compiled before keep the linker they were built with).

    Returns
    -------
    str
        Which BLAS the kernels call (see :func:`rnnlab.nn.ops.kernels.blas.bind`).

    Raises
    ------
    ValueError
        For a bad ``RNNLAB_BLAS``.

    Examples
    --------
    >>> from pytensor.compile.mode import get_mode
    >>> blas_name = prepare()
    >>> type(get_mode("NUMBA").linker).__name__
    'ContiguousNumbaLinker'
    >>> prepare() == blas_name
    True
    """
    if not _PREPARED:
        linker.install()
        described = ready()
        blas.limit_threads()
        _PREPARED.append(described)
    return _PREPARED[0]
