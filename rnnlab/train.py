"""``python -m rnnlab.train``: runs :mod:`rnnlab.commands.train`.

The command is installed as ``rnnlab-train`` too.
"""

import sys

from rnnlab.commands.train import cli

if __name__ == "__main__":
    sys.exit(cli())
