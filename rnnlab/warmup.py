"""``python -m rnnlab.warmup``: runs :mod:`rnnlab.commands.warmup`.

The command is installed as ``rnnlab-warmup`` too.
"""

import sys

from rnnlab.commands.warmup import cli

if __name__ == "__main__":
    sys.exit(cli())
