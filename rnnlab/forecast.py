"""``python -m rnnlab.forecast``: runs :mod:`rnnlab.commands.forecast`.

The command is installed as ``rnnlab-forecast`` too.
"""

import sys

from rnnlab.commands.forecast import cli

if __name__ == "__main__":
    sys.exit(cli())
