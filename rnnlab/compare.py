"""``python -m rnnlab.compare``: runs :mod:`rnnlab.commands.compare`.

The command is installed as ``rnnlab-compare`` too.
"""

import sys

from rnnlab.commands.compare import cli

if __name__ == "__main__":
    sys.exit(cli())
