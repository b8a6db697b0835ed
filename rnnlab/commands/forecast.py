"""``python -m rnnlab.forecast RUN``: forecast a series run's test split, or its future.

What is forecast and how it is scored: :mod:`rnnlab.evaluation.forecasting`.

Command line (writes into ``DIR``, default ``RUN/forecast/``, nothing else)::

    python -m rnnlab.forecast runs/airline-lstm-s0 [--checkpoint best|latest] [--out DIR]
                              [--future H [--refit]] [--levels 80,95]

``--refit`` also writes the refitted run, ``RUN/refit-<steps>`` (:mod:`rnnlab.training.refit`).
"""

import argparse
import sys
from pathlib import Path

from rnnlab.commands.cli import add_common_arguments, console_script
from rnnlab.evaluation.forecasting import (check_future, format_future, format_report,
                                           forecast_run, future_run)
from rnnlab.run import CHECKPOINTS, RunDir
from rnnlab.training.refit import refit
from rnnlab.training.session import load_run

__all__ = ["main"]


EXAMPLES = """examples:
  python -m rnnlab.forecast runs/airline_lstm-lstm-s0
  python -m rnnlab.forecast runs/airline_lstm-lstm-s0 --checkpoint latest --out /tmp/fc
  python -m rnnlab.forecast runs/airline_lstm-lstm-s0 --future 24 --levels 80,95
  python -m rnnlab.forecast runs/airline_lstm-lstm-s0 --future 24 --refit

Without --future: writes forecast.csv (the test part, forecast in horizon-long blocks, beside
the naive, seasonal-naive, drift and seasonal-naive-with-drift baselines, with prediction
intervals), backtest.csv (every origin of the rolling-origin backtest, scored), forecast.png
and forecast.json (every metric, the intervals and their measured coverage), and prints the two
metric tables (one pooled over the test rows, one averaged over the origins).
With --future H: forecasts the H rows after the last observation instead, dated by the data's
calendar, and writes future.csv, future.png and future.json.
With --future H --refit: the forecast is made by the run's model trained again on all the data
(same config and seed, as many steps as the checkpoint had taken; no validation part, so its
last parameters), a run directory of its own, RUN/refit-<steps>, made once and reused; its bands
keep the radii measured on the run's held-out errors.
Intervals are split conformal from the network's held-out errors per horizon step; their
coverage, measured on the test part, is printed beside the nominal level.  Also installed as the
command rnnlab-forecast.
exit codes: 0 done; 2 no such run or checkpoint, a text run, a test part shorter than one
horizon, bad --future/--levels, or --refit without --future (one line, nothing written);
130 interrupted.
"""


def _levels(text):
    """``--levels 80,95`` -> (0.8, 0.95); one clear line for anything else."""
    try:
        levels = tuple(float(part) / 100.0 for part in text.split(","))
    except ValueError:
        levels = ()
    if not levels or not all(0.0 < level < 1.0 for level in levels):
        raise argparse.ArgumentTypeError(f"expected percentages between 0 and 100 separated "
                                         f"by commas (e.g. 80,95), got {text!r}")
    return levels


def _steps(text):
    """``--future 24`` -> 24; one clear line for anything else."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps from 1 to 100000, "
                                         f"got {text!r}")
    return int(text)



def main(argv=None):
    """Run ``python -m rnnlab.forecast RUN [--checkpoint C] [--out DIR] [--future H [--refit]]``.

    Prints the metric tables (or, with ``--future``, the forecast) and the files written.

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
        (A bad ``--future`` or ``--levels`` is argparse's usage error, exit code 2.)

    Examples
    --------
    >>> main(["no/such/run"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: no/such/run: no such run directory
    """
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.forecast", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Forecast a series run's test split beside the baselines, with a "
                    "rolling-origin backtest and prediction intervals, or (--future) the "
                    "steps after its data.", epilog=EXAMPLES)
    parser.add_argument("run", type=Path, help="the run directory (runs/<name>)")
    parser.add_argument("--checkpoint", choices=CHECKPOINTS, default="best",
                        help="which checkpoint to load (default best)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default RUN/forecast)")
    parser.add_argument("--future", type=_steps, default=None, metavar="H",
                        help="forecast the H steps after the last observation instead of the "
                             "test part")
    parser.add_argument("--refit", action="store_true",
                        help="with --future: forecast with the model refitted on all the data "
                             "(trained once into RUN/refit-<steps>)")
    parser.add_argument("--levels", type=_levels, default=(0.8, 0.95), metavar="L",
                        help="prediction interval levels in percent, comma separated "
                             "(default 80,95)")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    if args.refit and args.future is None:
        parser.error("--refit: expected --future H as well (a refit has no test part to "
                     "forecast)")
    run = RunDir(args.run).check()   # before compiling anything: fails in milliseconds
    run.check_kind("series")
    run.check_checkpoint(args.checkpoint)
    session = load_run(args.run, which=args.checkpoint)
    if args.future is not None:
        check_future(session, args.future, args.levels, args.out)  # before a refit trains
        refitted = refit(session) if args.refit else None
        result = future_run(session, args.future, args.out, levels=args.levels,
                            refit=refitted)
        print(format_future(result))
    else:
        result = forecast_run(session, args.out, levels=args.levels)  # None: <run>/forecast
        print(format_report(result))
    for path in result["files"].values():
        print(f"wrote {path}")
    return 0


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
