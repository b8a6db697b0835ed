"""rnnlab.nn: a Lasagne-compatible layer library on PyTensor.

Lasagne-era code runs unchanged with::

    import pytensor as theano
    import pytensor.tensor as T
    import rnnlab.nn as lasagne

Importing this package configures nothing: PyTensor, Numba, OpenMP and BLAS keep the settings
they had (``PYTENSOR_FLAGS``, PyTensor's defaults), as with Lasagne on Theano; it only makes two
C runtime helpers known to LLVM, without which PyTensor's NUMBA backend aborts the interpreter on
``x ** float(n)`` (:mod:`rnnlab.nn.ops.linker`).  The graphs it
builds do not depend on the compile mode; the compiler picks each op's implementation.  For
rnnlab's fast settings call ``rnnlab.backend.configure()`` before importing this package (NUMBA
mode, float32, rnnlab's compile cache) and ``rnnlab.nn.ops.prepare()`` after (rnnlab's NUMBA
linker, the kernels' threads).  ``rnnlab.nn`` may import PyTensor,
Numba, llvmlite, NumPy, SciPy and threadpoolctl (JAX where installed), and nothing from ``rnnlab``
outside ``rnnlab/nn/``: it stands alone.
"""

from . import utils
from . import random
from . import init
from . import nonlinearities
from . import objectives
from . import regularization
from . import updates
from . import layers
from . import ops

__all__ = ["layers", "init", "nonlinearities", "objectives", "regularization", "updates", "random",
           "utils", "ops"]
