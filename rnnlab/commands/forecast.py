"""``python -m rnnlab.forecast RUN``: forecast a series run's test split beside baselines.

What is forecast and how it is scored: :mod:`rnnlab.evaluation.forecasting`.

Command line (writes the four files into ``DIR``, default ``RUN/forecast/``, nothing else)::

    python -m rnnlab.forecast runs/airline-lstm-s0 [--checkpoint best|latest] [--out DIR]
"""

import argparse
import sys
from pathlib import Path

from rnnlab.commands.cli import add_common_arguments, console_script
from rnnlab.evaluation.forecasting import forecast_run, format_report
from rnnlab.run import CHECKPOINTS, RunDir
from rnnlab.training.session import load_run

__all__ = ["main"]


EXAMPLES = """examples:
  python -m rnnlab.forecast runs/airline_lstm-lstm-s0
  python -m rnnlab.forecast runs/airline_lstm-lstm-s0 --checkpoint latest --out /tmp/fc

Writes forecast.csv (the test part, forecast in horizon-long blocks, beside naive and seasonal
naive), backtest.csv (every origin of the rolling-origin backtest, scored), forecast.png and
forecast.json (every metric), and prints the two metric tables.  Also installed as the command
rnnlab-forecast.
exit codes: 0 done; 2 no such run or checkpoint, a text run, or a test part shorter than one
horizon (one line, nothing written); 130 interrupted.
"""


def main(argv=None):
    """Run ``python -m rnnlab.forecast RUN [--checkpoint best|latest] [--out DIR]``.

    Prints the metric tables and the files written.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code, 0.  Under :func:`rnnlab.commands.cli.run_command` (as ``python -m``), an
        :class:`~rnnlab.errors.RnnlabError` becomes one line on stderr and exit code 2.

    Raises
    ------
    RnnlabError
        For a missing run or checkpoint, a text run or a test part shorter than one horizon.

    Examples
    --------
    >>> main(["no/such/run"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: no/such/run: no such run directory
    """
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.forecast", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Forecast a series run's test split beside the naive and seasonal-naive "
                    "baselines, with a rolling-origin backtest.", epilog=EXAMPLES)
    parser.add_argument("run", type=Path, help="the run directory (runs/<name>)")
    parser.add_argument("--checkpoint", choices=CHECKPOINTS, default="best",
                        help="which checkpoint to load (default best)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default RUN/forecast)")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    run = RunDir(args.run).check()   # before compiling anything: fails in milliseconds
    run.check_kind("series")
    run.check_checkpoint(args.checkpoint)
    session = load_run(args.run, which=args.checkpoint)
    result = forecast_run(session, args.out)  # None: <run>/forecast
    print(format_report(result))
    for path in result["files"].values():
        print(f"wrote {path}")
    return 0


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
