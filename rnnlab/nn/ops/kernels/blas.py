"""A BLAS matrix product the compiled kernels can call with transposes, accumulation, no copies.

``numpy.dot`` inside Numba allocates its result and copies operands whose layout it does not
like; the recurrent kernels multiply small matrices every time step, where that overhead counts.
:func:`gemm` calls BLAS ``?gemm`` directly, writing into a given array, optionally accumulating::

    C = alpha * op(A) @ op(B) + beta * C,      op(X) = X.T if the flag is set else X

All three arrays must be 2-d, C-contiguous and of one float dtype (float32 or float64); the
kernels pass slices ``X[t, lo:hi]`` of C-contiguous 3-d arrays, which are.

Which BLAS: the compiled code calls the symbols ``rnnlab_sgemm`` / ``rnnlab_dgemm`` (Fortran
calling convention), which :func:`bind` binds (once per process, before the first kernel is
compiled or loaded: :func:`rnnlab.nn.ops.kernels.ready` calls it), so no address is baked into
machine code and the kernels are cached on disk like any other Numba function:

* Intel's oneMKL when it is installed (``pip install rnnlab[mkl]``: the ``mkl`` wheel, about
  1 GB) and ``RNNLAB_BLAS`` is not ``scipy``; it runs sequentially (the kernels thread
  themselves); docs/benchmarks.md has what it gained on the development machine.
* otherwise SciPy's BLAS (the one Numba's own ``numpy.dot`` uses; OpenBLAS in SciPy's wheel),
  made single-threaded by :func:`limit_threads`: the kernels run batch shards on Numba's
  threads, and a multi-threaded BLAS called from two threads at once thrashes.

:func:`bind` returns the name of the one bound.  Importing this module binds nothing.
"""

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic


__all__ = ["gemm", "bind", "limit_threads"]

_CHAR = ir.IntType(8)
_INT = ir.IntType(32)
#: MKL's threading layer constant for "sequential" (mkl_service.h).
_MKL_SEQUENTIAL = 1


def _find_mkl():
    """oneMKL's single dynamic library (``libmkl_rt``), loaded, or None."""
    candidates = sorted(Path(sys.prefix, "lib").glob("libmkl_rt.so*"))
    found = ctypes.util.find_library("mkl_rt")
    for path in [str(c) for c in candidates] + ([found] if found else []):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.MKL_Set_Threading_Layer.argtypes = [ctypes.c_int]
        lib.MKL_Set_Threading_Layer(_MKL_SEQUENTIAL)
        return path, lib
    return None


#: The description of the BLAS bound in this process (empty until :func:`bind`).
_BOUND = []


def bind():
    """Bind the symbols ``rnnlab_sgemm``/``rnnlab_dgemm`` to a BLAS, once per process.

    ``RNNLAB_BLAS`` chooses: ``auto`` (oneMKL when installed, else SciPy's BLAS), ``mkl`` or
    ``scipy``.  oneMKL is switched to its sequential threading layer.

    Returns
    -------
    str
        Which BLAS is bound, e.g. ``"SciPy's BLAS"``.

    Raises
    ------
    ValueError
        For an unknown ``RNNLAB_BLAS``, or ``mkl`` where oneMKL is not installed.

    Examples
    --------
    >>> bind() == bind()
    True
    """
    if _BOUND:
        return _BOUND[0]
    choice = os.environ.get("RNNLAB_BLAS", "auto").lower()
    if choice not in ("auto", "mkl", "scipy"):
        raise ValueError(f"RNNLAB_BLAS={choice!r}: expected auto, mkl or scipy")
    mkl = _find_mkl() if choice != "scipy" else None
    if choice == "mkl" and mkl is None:
        raise ValueError("RNNLAB_BLAS=mkl but oneMKL (libmkl_rt) was not found: "
                           "pip install 'rnnlab[mkl]'")
    if mkl is not None:
        path, lib = mkl
        addresses = [ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
                     for name in ("sgemm_", "dgemm_")]
        described = f"oneMKL ({path})"
    else:
        addresses = [get_cython_function_address("scipy.linalg.cython_blas", name)
                     for name in ("sgemm", "dgemm")]
        described = "SciPy's BLAS"
    for name, address in zip(("rnnlab_sgemm", "rnnlab_dgemm"), addresses):
        llvm.add_symbol(name, address)
    _BOUND.append(described)
    return described


@intrinsic
def _fortran_gemm(typingctx, trans_a, trans_b, a, b, c, alpha, beta):
    """``?gemm`` on row-major arrays: ``C`` (row-major) is ``C^T`` column-major, so
    ``C^T = op(B)^T op(A)^T`` is one column-major ``gemm`` with the operands swapped."""
    if not all(isinstance(x, types.Array) and x.ndim == 2 for x in (a, b, c)):
        return None
    if not (a.dtype == b.dtype == c.dtype and c.dtype in (types.float32, types.float64)):
        return None
    signature = types.void(trans_a, trans_b, a, b, c, alpha, beta)

    def codegen(context, builder, sig, args):
        ta, tb, a_v, b_v, c_v, alpha_v, beta_v = args
        dtype = c.dtype
        real = context.get_value_type(dtype)
        ptr = real.as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [_CHAR.as_pointer()] * 2 + [_INT.as_pointer()] * 3
                               + [ptr, ptr, _INT.as_pointer(), ptr, _INT.as_pointer(), ptr, ptr,
                                  _INT.as_pointer()])
        name = "rnnlab_sgemm" if dtype == types.float32 else "rnnlab_dgemm"
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        A, B, C = (context.make_array(ty)(context, builder, v)
                   for ty, v in ((a, a_v), (b, b_v), (c, c_v)))
        a_rows, a_cols = cgutils.unpack_tuple(builder, A.shape, 2)
        _, b_cols = cgutils.unpack_tuple(builder, B.shape, 2)
        c_rows, c_cols = cgutils.unpack_tuple(builder, C.shape, 2)

        def slot(llty, value):
            where = cgutils.alloca_once(builder, llty)
            builder.store(value, where)
            return where

        def flag(value, ty):
            on = context.cast(builder, value, ty, types.boolean)
            return slot(_CHAR, builder.select(on, ir.Constant(_CHAR, ord("T")),
                                              ir.Constant(_CHAR, ord("N"))))

        def size(value):
            return slot(_INT, builder.trunc(value, _INT))

        inner = builder.select(context.cast(builder, ta, sig.args[0], types.boolean),
                               a_rows, a_cols)
        builder.call(fn, (flag(tb, sig.args[1]), flag(ta, sig.args[0]), size(c_cols),
                          size(c_rows), size(inner),
                          slot(real, context.cast(builder, alpha_v, sig.args[5], dtype)),
                          builder.bitcast(B.data, ptr), size(b_cols),
                          builder.bitcast(A.data, ptr), size(a_cols),
                          slot(real, context.cast(builder, beta_v, sig.args[6], dtype)),
                          builder.bitcast(C.data, ptr), size(c_cols)))
        return context.get_dummy_value()

    return signature, codegen


@numba.njit(cache=True, nogil=True)
def gemm(trans_a, trans_b, a, b, c, alpha, beta):
    """In place ``c[:] = alpha * op(a) @ op(b) + beta * c`` through BLAS ``?gemm``.

    Parameters
    ----------
    trans_a, trans_b : bool
        Use ``a.T`` (``b.T``) instead of ``a`` (``b``).
    a, b : ndarray, 2-d, C-contiguous
        ``op(a)`` is ``(m, k)``, ``op(b)`` is ``(k, n)``.
    c : ndarray, shape ``(m, n)``, C-contiguous, same float dtype
        Overwritten (``beta = 0``) or accumulated into.
    alpha, beta : float

    Examples
    --------
    >>> from rnnlab.nn.ops.kernels import ready
    >>> _ = ready()                                   # binds the BLAS symbols
    >>> a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    >>> c = np.ones((3, 3))
    >>> gemm(True, False, a, b, c, 1.0, 1.0)           # c = a.T @ b + c
    >>> c.tolist()
    [[4.0, 4.0, 4.0], [6.0, 6.0, 6.0], [8.0, 8.0, 8.0]]
    """
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if (a.shape[1] if trans_a else a.shape[0]) != m or (b.shape[0] if trans_b else b.shape[1]) != n \
            or (b.shape[1] if trans_b else b.shape[0]) != k:
        raise ValueError("gemm: operand shapes do not match")
    if m == 0 or n == 0:
        return
    if k == 0:
        c *= beta
        return
    if max(m, n, k) >= 2 ** 31:
        raise ValueError("gemm: a dimension does not fit BLAS's 32-bit sizes")
    _fortran_gemm(trans_a, trans_b, a, b, c, alpha, beta)


def limit_threads():
    """Make SciPy's BLAS single-threaded (see the module docstring).

    That is the BLAS :func:`gemm` calls unless oneMKL is bound, and the one Numba's own
    ``numpy.dot`` calls (through ``scipy.linalg.cython_blas``): with SciPy's own wheel, the
    library in ``scipy.libs``; NumPy's separate copy keeps its threads.  When SciPy
    uses a shared system BLAS, that one is limited.  Idempotent.

    Returns
    -------
    list of str
        The paths of the libraries limited.

    Examples
    --------
    >>> found = limit_threads()
    >>> len(found) >= 1
    True
    """
    import scipy
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS Numba calls: loaded first)
    from threadpoolctl import ThreadpoolController

    blas = ThreadpoolController().select(user_api="blas")
    wheel = str(Path(scipy.__file__).resolve().parent.parent / "scipy.libs")
    own = [lib for lib in blas.lib_controllers if lib.filepath.startswith(wheel)]
    chosen = own or blas.lib_controllers
    for lib in chosen:
        lib.set_num_threads(1)
    return [lib.filepath for lib in chosen]
