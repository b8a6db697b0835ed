"""rnnlab.nn: a Lasagne-compatible layer library on PyTensor.

Lasagne-era code runs unchanged with::

    import pytensor as theano
    import pytensor.tensor as T
    import rnnlab.nn as lasagne

Importing this package configures PyTensor through :mod:`rnnlab.backend` first (compile mode,
floatX, compile-cache directory), so import it (or call ``rnnlab.backend.configure``) before
importing PyTensor when you want rnnlab's settings.
"""

from .. import backend as _backend

_backend.configure()

from .. import _numba_linker  # noqa: E402

_numba_linker.install()  # mode="NUMBA": one compile per graph (outputs stay C-contiguous)

from . import utils  # noqa: E402
from . import random  # noqa: E402
from . import init  # noqa: E402
from . import nonlinearities  # noqa: E402
from . import objectives  # noqa: E402
from . import regularization  # noqa: E402
from . import updates  # noqa: E402
from . import layers  # noqa: E402

__all__ = ["layers", "init", "nonlinearities", "objectives", "regularization", "updates", "random",
           "utils"]
