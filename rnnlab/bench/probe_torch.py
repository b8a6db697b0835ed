"""``python -m rnnlab.bench.probe_torch``: a start-up and memory probe of the PyTorch model.

The child process of :func:`rnnlab.bench.probe.run_probe`; what it imports before the probe's
clock stops is what the probe measures: the data path, then ``torch`` (an optional dependency,
so imported once :func:`~rnnlab.bench.probe.run_child` has checked the arguments).
"""

import sys

from rnnlab.bench import specs
from rnnlab.bench.probe import run_child
from rnnlab.bench.torch_runner import TorchRunner
from rnnlab.commands.cli import run_command

__all__ = []


def _build(bench, args):
    return TorchRunner(bench, args.cell, specs.text_task(bench, args.text, args.max_chars),
                       threads=args.torch_threads)


def _import_torch():
    import torch  # noqa: F401  (measured with the imports; PyTorch is optional)


if __name__ == "__main__":
    sys.exit(run_command(lambda argv: run_child(_build, argv, load=_import_torch,
                                                prog=f"python -m {__spec__.name}")))
