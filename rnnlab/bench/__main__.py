"""``python -m rnnlab.bench``: see :mod:`rnnlab.bench.cli`."""

import sys

from rnnlab.bench.cli import main
from rnnlab.commands.cli import run_command

sys.exit(run_command(main))
