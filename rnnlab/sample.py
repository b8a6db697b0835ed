"""``python -m rnnlab.sample``: runs :mod:`rnnlab.commands.sample`.

The command is installed as ``rnnlab-sample`` too.
"""

import sys

from rnnlab.commands.sample import cli

if __name__ == "__main__":
    sys.exit(cli())
