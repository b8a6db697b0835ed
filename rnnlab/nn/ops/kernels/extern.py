"""Call a compiled kernel from a PyTensor graph without compiling the kernel into the graph.

PyTensor's NUMBA mode compiles a whole function graph into one Numba function.  A kernel called
the usual way (one ``@njit`` function calling another) is *linked into* that function: LLVM
optimises and generates machine code for the kernel again inside every new graph, which for the
threaded recurrent kernels made every model's cold start much longer (docs/benchmarks.md,
start-up).

:func:`extern_call` instead loads the kernel once per process (from Numba's on-disk cache after
``python -m rnnlab.warmup``), binds the address of its machine code to a named symbol
(``llvmlite.binding.add_symbol``, as :mod:`~rnnlab.nn.ops.kernels.blas` does for BLAS) and returns an
intrinsic that calls that symbol with Numba's own calling convention: results, reference counts
and exceptions pass exactly as in an ordinary call, but the graph's code holds only a call by
name.  The graph stays cacheable: the symbol is resolved when its cached machine code is loaded,
and :func:`extern_call` runs (binding the symbol) whenever PyTensor prepares the graph, cold or
warm, because the op's ``numba_funcify`` calls it.
"""

import hashlib

import llvmlite.binding as llvm
import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic
from pytensor.link.numba.cache import compile_numba_function_src
from pytensor.link.numba.dispatch.basic import numba_njit

from .threads import ready

__all__ = ["extern_call", "node_caller", "array_type", "input_types"]

#: symbol -> signature of every kernel bound in this process
_BOUND = {}


def array_type(pytensor_type):
    """The Numba type of a C-contiguous array of a PyTensor tensor type.

    Parameters
    ----------
    pytensor_type : pytensor.tensor.TensorType
        Gives the dtype and the number of dimensions (PyTensor's NUMBA linker passes inputs and
        constants alike as writable arrays).

    Returns
    -------
    numba.types.Array
        ``Array(dtype, ndim, 'C')``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> array_type(pt.matrix(dtype="float32").type)
    Array(float32, 2, 'C', False, aligned=True)
    """
    dtype = numba.from_dtype(pytensor_type.numpy_dtype)
    return types.Array(dtype, pytensor_type.ndim, "C")


def input_types(node):
    """:func:`array_type` of each input of a PyTensor apply node, in order.

    The wrappers of rnnlab's ops pass every input through ``np.ascontiguousarray``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector("x", dtype="float64")
    >>> input_types((x + x).owner)
    [Array(float64, 1, 'C', False, aligned=True), Array(float64, 1, 'C', False, aligned=True)]
    """
    return [array_type(v.type) for v in node.inputs]


def _symbol(kernel, argtypes):
    digest = hashlib.sha1(repr(argtypes).encode()).hexdigest()[:16]
    module = kernel.py_func.__module__.replace(".", "_")
    return f"rnnlab_{module}_{kernel.py_func.__name__}_{digest}"


def _bind(kernel, argtypes):
    """Compile (or load from cache) ``kernel`` for ``argtypes``; bind its symbol; its signature."""
    symbol = _symbol(kernel, argtypes)
    if symbol not in _BOUND:
        ready()
        kernel.compile(argtypes)
        compiled = kernel.overloads[argtypes]
        address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
        if not address:
            raise RuntimeError(f"{kernel.py_func.__name__}: no machine code for {argtypes}")
        llvm.add_symbol(symbol, address)
        _BOUND[symbol] = compiled.signature
    return symbol, _BOUND[symbol]


def extern_call(kernel, argtypes):
    """An intrinsic calling ``kernel`` compiled for exactly ``argtypes``, and a cache version.

    Parameters
    ----------
    kernel : numba.core.registry.CPUDispatcher
        An ``@njit(cache=True)`` function.
    argtypes : sequence of numba types
        The types the caller will pass (:func:`array_type` for arrays, ``numba.typeof`` of
        Python scalars); calling with other types fails at compile time with a clear error.

    Returns
    -------
    call : numba intrinsic
        Use it inside ``@njit`` code as ``call((arg1, arg2, ...))``: one tuple of the arguments.
    version : int
        A hash of the kernel's symbol and signature, for PyTensor's cache key: a cached graph is
        never run against a kernel of another signature.

    Examples
    --------
    >>> import numpy as np
    >>> @numba.njit(cache=False)
    ... def twice(x):
    ...     return 2 * x
    >>> call, version = extern_call(twice, (types.Array(types.float64, 1, "C"),))
    >>> @numba.njit
    ... def caller(x):
    ...     return call((x,)) + 1
    >>> caller(np.arange(3.0)).tolist()
    [1.0, 3.0, 5.0]
    """
    argtypes = tuple(argtypes)
    symbol, signature = _bind(kernel, argtypes)
    name = kernel.py_func.__name__

    @intrinsic
    def call(typingctx, args):
        got = tuple(types.unliteral(a) for a in getattr(args, "types", (args,)))
        if got != argtypes:
            raise TypingError(f"extern call of {name}: expected argument types {argtypes}, "
                              f"got {got}")

        def codegen(context, builder, sig, llargs):
            values = cgutils.unpack_tuple(builder, llargs[0], len(argtypes))
            llargs = [context.cast(builder, v, t, u) for v, t, u in zip(values, args, argtypes)]
            fnty = context.call_conv.get_function_type(signature.return_type, signature.args)
            fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
            status, result = context.call_conv.call_function(
                builder, fn, signature.return_type, signature.args, llargs)
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return result

        return signature.return_type(args), codegen

    version = int(hashlib.sha1(f"{symbol}{signature}".encode()).hexdigest()[:12], 16)
    return call, version


def node_caller(kernel, node, constants=()):
    """The Numba implementation of an apply node whose op is one kernel call.

    The function made takes the node's inputs, passes each through ``np.ascontiguousarray`` and
    calls ``kernel`` by symbol (:func:`extern_call`) with them, followed by ``constants``: the
    op's options, fixed when the graph is compiled.  This is what a ``numba_funcify`` of
    rnnlab's ops returns.

    Parameters
    ----------
    kernel : numba.core.registry.CPUDispatcher
        An ``@njit(cache=True)`` function taking the node's inputs as C-contiguous arrays, then
        the constants.
    node : pytensor.graph.basic.Apply
    constants : sequence of bool, int or float
        Typed by ``numba.typeof`` (bool, int64, float64).

    Returns
    -------
    function : numba function
        Of as many arguments as the node has inputs; returns what the kernel returns.
    version : int
        As for :func:`extern_call`.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> @numba.njit(cache=False)
    ... def scaled(x, factor):
    ...     return x * factor
    >>> x = pt.vector("x", dtype="float64")
    >>> call, _ = node_caller(scaled, pt.exp(x).owner, (3.0,))
    >>> @numba.njit
    ... def graph(x):                       # PyTensor's graph function calls it like this
    ...     return call(x)
    >>> graph(np.arange(3.0)).tolist()
    [0.0, 3.0, 6.0]
    """
    argtypes = input_types(node) + [numba.typeof(value) for value in constants]
    call, version = extern_call(kernel, argtypes)
    name = kernel.py_func.__name__
    names = [f"x{i}" for i in range(len(node.inputs))]
    passed = [f"c({x})" for x in names] + [repr(value) for value in constants]
    src = f"def {name}({', '.join(names)}):\n    return call(({', '.join(passed)},))\n"
    function = compile_numba_function_src(
        src, name, {"call": call, "c": np.ascontiguousarray, "inf": float("inf")})
    return numba_njit(function), version
