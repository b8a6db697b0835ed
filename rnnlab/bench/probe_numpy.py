"""``python -m rnnlab.bench.probe_numpy``: a start-up and memory probe of the numpy reference.

The child process of :func:`rnnlab.bench.probe.run_probe`; its module-level imports are what
the probe measures: the data path and the reference, no PyTensor.
"""

import sys

from rnnlab.bench import specs
from rnnlab.bench.numpy_runner import NumpyRunner
from rnnlab.bench.probe import run_child
from rnnlab.commands.cli import run_command

__all__ = []


def _build(bench, args):
    return NumpyRunner(bench, args.cell, specs.text_task(bench, args.text, args.max_chars))


if __name__ == "__main__":
    sys.exit(run_command(lambda argv: run_child(_build, argv,
                                                prog=f"python -m {__spec__.name}")))
