"""Thread set-up of the compiled kernels: one BLAS thread per caller, Numba's threads started,
OpenMP nesting off.

The recurrent kernels (:mod:`rnnlab.nn.layers._kernels`) run batch shards on Numba's threads and
call BLAS from each of them; :func:`start` prepares the process for that, once, when they are
imported.
"""

import ctypes
import os

import numba
from numba.np.ufunc.parallel import _launch_threads

from ._blas import limit_threads

__all__ = ["start", "openmp_without_nesting"]


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


def start():
    """Prepare the process for the kernels; idempotent.

    Two shards calling a multi-threaded BLAS at once make its threads wait on each other, so
    SciPy's BLAS gets one thread (:func:`rnnlab.nn._blas.limit_threads`).  Numba starts its
    threading layer (and binds the symbols its parallel code calls) when it compiles or calls a
    parallel function through its dispatcher; the NUMBA graphs call the kernels' machine code
    directly (:mod:`rnnlab.nn._extern`), so it is started here.  Then
    :func:`openmp_without_nesting`.

    Returns
    -------
    bool
        What :func:`openmp_without_nesting` returned.

    Examples
    --------
    >>> import numba
    >>> _ = start()
    >>> numba.threading_layer() in ("omp", "tbb", "workqueue")
    True
    """
    limit_threads()
    _launch_threads()
    return openmp_without_nesting()
