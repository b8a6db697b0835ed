"""The commands: one module per ``python -m rnnlab.<command>`` and its console script.

``train``, ``sample``, ``forecast``, ``compare`` and ``warmup`` each define ``main(argv)`` and
``cli`` (see :mod:`rnnlab.commands.cli`, the plumbing they share: one-line errors, exit codes).
``python -m rnnlab.train`` and the others run these modules through the thin entry points at the
top of the package (``rnnlab/train.py``, ...).

Commands sit near the top of the import graph: they may import every other package of rnnlab;
only the benchmark (:mod:`rnnlab.bench`, its command-line plumbing) imports them.  Importing this package prepares the process for a command
(:func:`rnnlab.backend.prepare_process`): the compile cache chosen by ``RNNLAB_CACHE_DIR`` (or
the default) is written into ``PYTENSOR_FLAGS`` and ``NUMBA_CACHE_DIR`` before any command
module imports PyTensor or Numba, which read them once, at import.
"""

from rnnlab import backend

backend.prepare_process()
