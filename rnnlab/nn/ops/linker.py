"""rnnlab's NUMBA mode: PyTensor's, with every array output C-contiguous.

A compiled Numba function is specialised on the memory layout of its arguments.  PyTensor's
rewrites may return a view as an output (an SGD update computed in place into a slice of a
joined gradient, say); fed back into the function (a shared variable's new value, carried
states), that non-contiguous array made Numba compile the whole training graph a second time at
the second step (the start-up figures are in ``docs/benchmarks.md``).  The linker here copies
such outputs to C order (a no-op test for the usual contiguous ones), so the types of the next
call match the first and there is one compile per graph.

:func:`install` replaces PyTensor's ``NUMBA`` mode with it; :func:`rnnlab.nn.ops.prepare` calls
it (importing :mod:`rnnlab.nn` does not).

Importing this module binds the two integer-power helpers of the C runtime
(:func:`bind_integer_powers`): with fast math, LLVM turns ``x ** float(n)`` for an integer ``n``
into a call of ``__powisf2``/``__powidf2``, which Numba's JIT does not link by itself, and a
missing symbol aborts the process (no exception) -- with PyTensor's own NUMBA linker too, its
default.  That changes no setting: it only makes two symbols resolvable, so no graph of a process
that imported :mod:`rnnlab.nn` can abort that way.
"""

import ctypes

import llvmlite.binding as llvm
import numpy as np
from pytensor.compile import mode as _mode
from pytensor.graph.rewriting.db import RewriteDatabaseQuery
from pytensor.link.numba.linker import NumbaLinker

__all__ = ["ContiguousNumbaLinker", "install", "bind_integer_powers"]

#: LLVM's integer-power runtime functions (float32, float64) and the libraries that have them.
_INTEGER_POWERS = ("__powisf2", "__powidf2")
_RUNTIMES = ("libgcc_s.so.1", "libgcc_s.1.dylib", "libcompiler_rt.dylib")


class ContiguousNumbaLinker(NumbaLinker):
    """PyTensor's Numba linker whose compiled function returns C-contiguous arrays.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> x = pt.matrix("x")
    >>> mode = pytensor.compile.mode.Mode(ContiguousNumbaLinker(), "fast_run")
    >>> f = pytensor.function([x], x.T, mode=mode)
    >>> f(np.ones((2, 3), x.dtype)).flags.c_contiguous
    True
    """

    def jit_compile(self, fn_and_cache):
        jitted = super().jit_compile(fn_and_cache)
        arrays = frozenset(i for i, v in enumerate(self.fgraph.outputs)
                           if getattr(v.type, "ndim", 0) >= 1)
        if not arrays:
            return jitted

        def contiguous_outputs(*inputs):
            outputs = jitted(*inputs)
            for i in arrays:
                if not outputs[i].flags.c_contiguous:
                    return tuple(np.ascontiguousarray(out) if j in arrays else out
                                 for j, out in enumerate(outputs))
            return outputs

        contiguous_outputs.py_func = jitted.py_func
        contiguous_outputs.dispatcher = jitted
        return contiguous_outputs


def install():
    """Make ``mode="NUMBA"`` (and the ``numba`` linker) use :class:`ContiguousNumbaLinker`.

    Idempotent; call it before compiling functions.

    Returns
    -------
    pytensor.compile.mode.Mode
        The ``NUMBA`` mode now registered.

    Examples
    --------
    >>> isinstance(install().linker, ContiguousNumbaLinker)
    True
    """
    bind_integer_powers()
    current = _mode.predefined_modes["NUMBA"]
    if isinstance(current.linker, ContiguousNumbaLinker):
        return current
    numba = _mode.Mode(ContiguousNumbaLinker(),
                       RewriteDatabaseQuery(include=["fast_run", "numba"]))
    _mode.predefined_modes["NUMBA"] = _mode.fast_run_linkers_to_mode["numba"] = numba
    _mode.predefined_linkers["numba"] = numba.linker
    _mode.NUMBA = numba
    _mode._CACHED_RUNTIME_MODES.clear()
    return numba


def bind_integer_powers():
    """Make ``__powisf2`` and ``__powidf2`` known to LLVM, from the C runtime; idempotent.

    Returns
    -------
    tuple of str
        The names now resolvable: both where the runtime library was found (``libgcc_s`` on
        Linux), else those LLVM resolved already (possibly none).

    Examples
    --------
    >>> bind_integer_powers()
    ('__powisf2', '__powidf2')
    """
    missing = [name for name in _INTEGER_POWERS if not llvm.address_of_symbol(name)]
    for path in _RUNTIMES if missing else ():
        try:
            runtime = ctypes.CDLL(path)
            addresses = [ctypes.cast(getattr(runtime, name), ctypes.c_void_p).value
                         for name in missing]
        except (OSError, AttributeError):
            continue
        for name, address in zip(missing, addresses):
            llvm.add_symbol(name, address)
        break
    return tuple(name for name in _INTEGER_POWERS if llvm.address_of_symbol(name))


bind_integer_powers()
