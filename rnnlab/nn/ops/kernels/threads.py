"""Preparing a process for the kernels: BLAS symbols bound, Numba's threads started, OpenMP
nesting back off; and the kernels' view of how many threads there are.

The recurrent kernels (:mod:`rnnlab.nn.ops.kernels.recurrent`) run batch shards on Numba's
threads and call BLAS from each of them.  :func:`ready` prepares the process for that once, when
an op first needs a kernel (its ``perform``, or its NUMBA translation); importing configures
nothing.

:func:`thread_count` is how the kernels size their shards: Numba's thread count read when they
run, never a constant frozen into cached machine code.
"""

import ctypes
import os

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.typed_passes import _reload_parfors
from numba.extending import intrinsic
from numba.np.ufunc.parallel import _launch_threads

from .blas import bind

__all__ = ["ready", "openmp_without_nesting", "thread_count"]

#: What :func:`ready` returned, once it ran in this process.
_READY = []


def openmp_without_nesting():
    """Undo the unlimited nested parallelism that Numba's OpenMP threading layer switches on.

    That setting lives in the process's GNU OpenMP runtime, which other libraries share
    (PyTorch's wheel loads the same ``libgomp.so.1``): their nested parallel regions then
    oversubscribe the cores, and PyTorch's (a) Elman step ran 35 times slower in a process that
    had imported rnnlab.  The kernels' own parallel loops are never nested, so OpenMP's default
    of one active level is restored, unless the environment asks for nesting
    (``OMP_NESTED``, ``OMP_MAX_ACTIVE_LEVELS``).

    Returns
    -------
    bool
        Whether the setting was changed (False for another threading layer or runtime).

    Examples
    --------
    >>> openmp_without_nesting() in (True, False)
    True
    """
    asked = {"OMP_NESTED", "OMP_MAX_ACTIVE_LEVELS"} & set(os.environ)
    if numba.threading_layer() != "omp" or asked:
        return False
    try:
        ctypes.CDLL("libgomp.so.1").omp_set_max_active_levels(1)
    except (OSError, AttributeError):       # another OpenMP runtime: nothing to undo here
        return False
    return True


def ready():
    """Prepare the process for calling the kernels; idempotent and cheap after the first call.

    Binds the BLAS symbols the kernels call (:func:`rnnlab.nn.ops.kernels.blas.bind`).  Numba
    starts its threading layer when a parallel function is called through its dispatcher; the
    NUMBA graphs call the kernels' machine code directly (:mod:`~rnnlab.nn.ops.kernels.extern`),
    so it is started here, then :func:`openmp_without_nesting` undoes the nesting it turns on.
    Nothing else changes: the number of BLAS threads is the caller's business
    (:func:`rnnlab.nn.ops.kernels.blas.limit_threads`, which :func:`rnnlab.nn.ops.prepare` calls).

    Returns
    -------
    str
        Which BLAS the kernels call.

    Raises
    ------
    ValueError
        For a bad ``RNNLAB_BLAS`` (see :func:`~rnnlab.nn.ops.kernels.blas.bind`).

    Examples
    --------
    >>> import numba
    >>> ready() in ("SciPy's BLAS",) or ready().startswith("oneMKL")
    True
    >>> numba.threading_layer() in ("omp", "tbb", "workqueue")
    True
    """
    if not _READY:
        described = bind()
        _launch_threads()
        openmp_without_nesting()
        _READY.append(described)
    return _READY[0]


@intrinsic
def _get_num_threads(typingctx):
    """Calls the threading layer's ``get_num_threads`` by symbol, as Numba's own parallel loops
    do; :func:`numba.get_num_threads` calls it through a ctypes pointer instead, which keeps any
    function using it out of the on-disk cache.  The symbol exists once Numba has started its
    threads: here when compiling, and on loading from the cache through the hook Numba's
    parallel loops register for the same purpose."""
    _launch_threads()

    def codegen(context, builder, signature, args):
        context.active_code_library._reload_init.add(_reload_parfors)
        fnty = ir.FunctionType(ir.IntType(types.intp.bitwidth), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "get_num_threads")
        return builder.call(fn, [])

    return types.intp(), codegen


@numba.njit(cache=True, nogil=True)
def thread_count():
    """How many threads Numba's parallel loops use now, read when called (cacheable).

    :func:`numba.get_num_threads` gives the same number, but jitted code that calls it cannot be
    cached on disk; a constant such as ``numba.config.NUMBA_NUM_THREADS`` can, but is frozen into
    the cached machine code by whichever process compiled it first (a sweep job started with
    ``NUMBA_NUM_THREADS=1`` then kept every later run on one shard).

    Returns
    -------
    int
        At least 1: ``numba.set_num_threads``'s value, ``NUMBA_NUM_THREADS`` by default.

    Examples
    --------
    >>> thread_count() == numba.get_num_threads()
    True
    """
    return _get_num_threads()
