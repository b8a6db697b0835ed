"""``python -m rnnlab.bench.probe_rnnlab``: a start-up and memory probe of rnnlab's model.

The child process of :func:`rnnlab.bench.probe.run_probe`; its module-level imports are what
the probe measures, as any rnnlab program imports them: PyTensor, the data path, the model and
its compile step, the training session.  Importing :mod:`rnnlab.bench` wrote the compile cache
(``RNNLAB_CACHE_DIR``) into PyTensor's flags before these imports.
"""

import sys

import pytensor  # noqa: F401  (imported before the baseline, as any rnnlab program does)

from rnnlab.bench.probe import run_child
from rnnlab.bench.rnnlab_runner import RnnlabRunner
from rnnlab.commands.cli import run_command

__all__ = []


def _build(bench, args):
    return RnnlabRunner(bench, args.cell, args.text, args.mode, args.max_chars)


if __name__ == "__main__":
    sys.exit(run_command(lambda argv: run_child(_build, argv,
                                                prog=f"python -m {__spec__.name}")))
