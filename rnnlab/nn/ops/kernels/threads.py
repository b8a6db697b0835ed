"""Preparing a process for the kernels: BLAS symbols bound, Numba's threads started, OpenMP
nesting back off.

The recurrent kernels (:mod:`rnnlab.nn.ops.kernels.recurrent`) run batch shards on Numba's
threads and call BLAS from each of them.  :func:`ready` prepares the process for that once, when
an op first needs a kernel (its ``perform``, or its NUMBA translation); importing configures
nothing.
"""

import ctypes
import os

import numba
from numba.np.ufunc.parallel import _launch_threads

from .blas import bind

__all__ = ["ready", "openmp_without_nesting"]

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
