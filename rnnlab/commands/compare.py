"""``python -m rnnlab.compare``: run a grid of trainings (or take finished runs) and report.

Two ways in::

    python -m rnnlab.compare runs/a runs/b runs/c [--out DIR]
    python -m rnnlab.compare --config experiments/shakespeare_lstm.toml \\
        --vary model.cell=elman,lstm --seeds 3 [section.key=value ...] [--jobs N] \\
        [--dask-scheduler tcp://host:8786] [--out DIR]

The second form trains every grid point (the product of the ``--vary`` lists) with ``--seeds``
seeds (``train.seed`` = the config's seed + 0, 1, ...) into ``DIR/runs/<point>_s<seed>``, then
reports.  Every configuration is resolved and checked first, so a bad key, value or data file
costs one line and exit code 2 with nothing written.  Each run is its own OS process,
``python -m rnnlab.train`` (then ``python -m rnnlab.forecast`` for series), with its output in
``DIR/logs/<name>.log``: a crash cannot take the others down and no PyTensor state is shared.
``--jobs N`` runs N at a time through joblib (``-1``: one per core); ``--dask-scheduler ADDRESS``
sends the same tasks to a ``dask.distributed`` cluster instead, each task running one training in
a fresh process on a worker and returning its run directory (see :mod:`rnnlab.training.sweep`; the
workers need rnnlab installed and the same paths).  Both need ``pip install rnnlab[sweep]``.

The report (see :mod:`rnnlab.reports.comparison`) goes to ``DIR`` -- a new directory, never an existing
one (default ``<run.dir>/compare-<config stem>`` or ``compare`` beside the first run, with a
numeric suffix if taken): ``report.md``, ``report.json``, ``val_loss_vs_step.png``,
``val_loss_vs_time.png`` and ``gradients_vs_lag.png`` -- the norm of ``dL/dh_{T-1-k}`` against the
lag ``k`` (:mod:`rnnlab.reports.gradients`) for freshly initialised networks of each compared cell type,
or, with ``--gradients``, for the trained runs (best checkpoint, averaged over each group).
Exit code 0 when every run finished, 1 when some failed (the report lists them), 2 for bad input.
Also installed as the command ``rnnlab-compare``.
"""

import argparse
import itertools
import math
import os
import re
import shlex
import sys
from pathlib import Path

from rnnlab import backend, config
from rnnlab.commands.cli import Once, add_common_arguments, console_script
from rnnlab.errors import ConfigError, WriteError
from rnnlab.files import create_run_dir
from rnnlab.model.compile import prepare_ops
from rnnlab.reports.comparison import write_report
from rnnlab.reports.stats import load_runs
from rnnlab.run import RunDir
from rnnlab.training.sweep import connect, execute

__all__ = ["parse_vary", "plan_grid", "main"]

#: Keys ``--vary`` may not vary: the seed is ``--seeds``' job, the run's place is compare's.
FIXED_KEYS = ("train.seed", "run.dir", "run.name", "run.progress")
#: The most runs one grid may plan (``--vary`` values multiplied, times ``--seeds``): every run
#: is resolved and checked before the first starts, so a typo such as ``--seeds 4294967296``
#: would otherwise plan for hours.
MAX_RUNS = 10_000


def parse_vary(text):
    """Parse ``section.key=v1,v2,...`` into the key and its values, each checked by type.

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple
        ``(dotted key, list of value texts)``, the texts as typed (for overrides and names).

    Raises
    ------
    ConfigError
        For a missing ``=``, an unknown key, a fixed key or a value of the wrong type.

    Examples
    --------
    >>> parse_vary("model.cell=elman,lstm")
    ('model.cell', ['elman', 'lstm'])
    >>> parse_vary("train.lr=0.1,fast")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: --vary train.lr=0.1,fast: train.lr = 'fast': expected a number
    """
    dotted, sep, raw = text.partition("=")
    values = [value.strip() for value in raw.split(",") if value.strip()]
    if not sep or not values:
        raise ConfigError(f"--vary {text!r}: expected section.key=value1,value2,... "
                          "e.g. model.cell=elman,lstm")
    if dotted in FIXED_KEYS:
        raise ConfigError(f"--vary {text}: {dotted} cannot be varied (use --seeds for seeds; "
                          "compare places the runs)")
    for value in values:
        config.parse_value(dotted, value, source=f"--vary {text}")
    if len(set(values)) != len(values):
        raise ConfigError(f"--vary {text}: a value is repeated")
    return dotted, values


def _slug(dotted, value):
    return re.sub(r"[^A-Za-z0-9.+-]", "_", f"{dotted.rpartition('.')[2]}-{value}")


def plan_grid(config_path, vary=(), seeds=1, overrides=()):
    """Resolve and check every run of a grid before anything runs.

    Parameters
    ----------
    config_path : str or os.PathLike
        The base config (TOML).
    vary : sequence of (str, list of str)
        From :func:`parse_vary`; the grid is their product, in the order given.
    seeds : int
        Runs per grid point; seeds are the config's ``train.seed`` + 0, 1, ...
    overrides : sequence of str
        ``section.key=value`` applied to every run (before the grid values).

    Returns
    -------
    list of dict
        One per run: ``name``, ``overrides`` (all of them, seed included) and ``kind``
        (``data.kind``).

    Raises
    ------
    ConfigError
        The first bad config, key or value (with the override that caused it), or a grid of
        more than :data:`MAX_RUNS` runs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> data, toml = pathlib.Path(tmp.name) / "a.txt", pathlib.Path(tmp.name) / "x.toml"
    >>> _ = data.write_text("some text")
    >>> _ = toml.write_text(f'[data]\\npath = "{data.as_posix()}"\\n')
    >>> plan = plan_grid(toml, [("model.cell", ["elman", "lstm"])], seeds=2)
    >>> [(run["name"], run["overrides"]) for run in plan][:2]
    [('cell-elman_s0', ['model.cell=elman', 'train.seed=0']), ('cell-elman_s1', ['model.cell=elman', 'train.seed=1'])]
    >>> tmp.cleanup()
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds {seeds!r}: expected an integer >= 1")
    runs = math.prod(len(values) for _, values in vary) * seeds
    if runs > MAX_RUNS:
        raise ConfigError(f"--vary and --seeds {seeds}: the grid has {runs} runs; expected at "
                          f"most {MAX_RUNS}")
    base = config.load(config_path, list(overrides))
    keys = [dotted for dotted, _ in vary]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"--vary: a key is given twice ({', '.join(keys)})")
    plan = []
    for point in itertools.product(*(values for _, values in vary)):
        point_overrides = [f"{key}={value}" for key, value in zip(keys, point)]
        slug = "_".join(_slug(key, value) for key, value in zip(keys, point))
        for offset in range(seeds):
            seed = base.train.seed + offset
            run_overrides = list(overrides) + point_overrides + [f"train.seed={seed}"]
            cfg = config.load(config_path, run_overrides)
            name = f"{slug or cfg.model.cell}_s{seed}"
            plan.append({"name": name, "overrides": run_overrides, "kind": cfg.data.kind})
    names = [run["name"] for run in plan]
    if len(set(names)) != len(names):
        raise ConfigError(f"--vary: values give equal run names ({', '.join(names)}); use "
                          "values that differ in letters, digits, '.', '+' or '-'")
    return plan


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.compare", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare runs (e.g. Elman against LSTM over seeds): train a grid from a "
                    "config, or take finished run directories; write report.md, report.json "
                    "and plots.",
        epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("items", nargs="*", metavar="RUN_DIR | section.key=value",
                        help="finished run directories, or with --config: overrides for every "
                             "run")
    parser.add_argument("--config", type=Path, action=Once,
                        help="base config (TOML) of a grid to train")
    parser.add_argument("--vary", action="append", default=[], metavar="section.key=v1,v2",
                        help="a grid axis (repeat for a product), e.g. model.cell=elman,lstm")
    parser.add_argument("--seeds", type=int, default=1,
                        help=f"runs per grid point (default 1; a grid has at most {MAX_RUNS} "
                             f"runs)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at a time with joblib (default 1; -1: one per core)")
    parser.add_argument("--dask-scheduler", metavar="ADDRESS",
                        help="run the grid on this dask.distributed scheduler instead")
    parser.add_argument("--out", type=Path, help="report directory (must not exist)")
    grads = parser.add_mutually_exclusive_group()
    grads.add_argument("--gradients", action="store_true",
                       help="gradient-vs-lag plot from the trained runs (default: from freshly "
                            "initialised networks of each cell type)")
    grads.add_argument("--no-gradients", action="store_true", help="skip the gradient plot")
    return add_common_arguments(parser)


def _exists(path, what):
    """Whether ``path`` exists; a one-line error for a name the system rejects (too long)."""
    try:
        return Path(path).exists()
    except OSError as err:
        raise ConfigError(f"{what}{path}: not a usable path ({err.strerror}); expected a "
                          f"file or folder name the system accepts") from None


def _check_args(args):
    if args.jobs == 0 or args.jobs < -1:
        raise ConfigError(f"--jobs {args.jobs}: expected a positive integer or -1 (all cores)")
    if args.config is None:
        if args.vary or args.seeds != 1:
            raise ConfigError("--vary and --seeds need --config FILE (the grid's base config)")
        if not args.items:
            raise ConfigError("nothing to compare: give run directories, or --config FILE "
                              "--vary section.key=v1,v2 [--seeds N]")
        for item in args.items:
            if "=" in item and not _exists(item, ""):
                raise ConfigError(f"{item}: looks like an override, but overrides need "
                                  "--config FILE")
    if args.out is not None and _exists(args.out, "--out "):
        raise ConfigError(f"--out {args.out}: exists; compare never overwrites (choose a new "
                          "directory)")


def _make_out_dir(args, root, name):
    if args.out is None:
        return create_run_dir(root, name)
    try:
        args.out.mkdir(parents=True)
    except FileExistsError:
        raise ConfigError(f"--out {args.out}: exists; compare never overwrites") from None
    except OSError as err:
        raise WriteError.from_os_error(args.out, err, "cannot create the report directory"
                                       ) from None
    return args.out


def _grid(args, plan, client, out):
    """Train a planned grid; return (run dirs that finished, failures, out_dir)."""
    base = config.load(args.config, list(args.items))
    out_dir = _make_out_dir(args, base.run.dir, f"compare-{args.config.stem}")
    runs_root = out_dir.resolve() / "runs"
    jobs = []
    for run in plan:
        run_dir = runs_root / run["name"]
        train = ["rnnlab.train", "--config", str(args.config.resolve()), *run["overrides"],
                 f"run.dir={runs_root}", f"run.name={run['name']}", "run.progress=false"]
        commands = [train] + ([["rnnlab.forecast", str(run_dir)]] if run["kind"] == "series"
                              else [])
        jobs.append({"name": run["name"], "commands": commands, "cwd": os.getcwd(),
                     "log": str(out_dir.resolve() / "logs" / f"{run['name']}.log"),
                     "run_dir": str(run_dir)})
    where = f"on {args.dask_scheduler}" if args.dask_scheduler else f"{args.jobs} at a time"
    out(f"training {len(jobs)} runs ({where}) into {runs_root}")
    results = execute(jobs, args.jobs, client, out=out)
    finished = [r for r in results if RunDir(r["run_dir"]).finished()]
    failed = [r for r in results if r not in finished or r["returncode"] not in (0, 1)]
    return [r["run_dir"] for r in finished], failed, out_dir


def _forecasts(args, client, records, out_dir, out):
    """Make the missing forecast.json of series runs (into out_dir/forecasts/<run>)."""
    jobs = [{"name": r.name, "run_dir": str(r.path), "cwd": os.getcwd(),
             "log": str(out_dir.resolve() / "logs" / f"forecast-{r.name}.log"),
             "commands": [["rnnlab.forecast", str(r.path), "--out",
                           str(out_dir.resolve() / "forecasts" / r.name)]]}
            for r in records if r.kind == "series" and r.forecast is None]
    if not jobs:
        return {}, []
    out(f"forecasting {len(jobs)} series runs beside the baselines")
    results = execute(jobs, args.jobs, client, out=out)
    made = {r["run_dir"]: str(out_dir.resolve() / "forecasts" / r["name"] / "forecast.json")
            for r in results if r["returncode"] == 0}
    return made, [r for r in results if r["returncode"] != 0]


def main(argv=None):
    """Run ``python -m rnnlab.compare`` with ``argv``; return the exit code (see ``--help``).

    Examples
    --------
    >>> main(["--vary", "model.cell=elman,lstm"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: --vary and --seeds need --config FILE (the grid's base config)
    """
    args = _parser().parse_args(argv)
    _check_args(args)
    command = "python -m rnnlab.compare " + shlex.join(argv if argv is not None
                                                       else sys.argv[1:])
    vary = [parse_vary(text) for text in args.vary]
    plan = None                                      # check everything before writing
    if args.config is not None:
        plan = plan_grid(args.config, vary, args.seeds, args.items)
    else:
        load_runs(args.items)
        for item in args.items if args.gradients else ():     # their data files must exist
            RunDir(item).load_config(check_files=True)
    client = connect(args.dask_scheduler) if args.dask_scheduler else None
    try:
        return _compare(args, vary, plan, client, command)
    finally:
        if client is not None:
            client.close()


def _compare(args, vary, plan, client, command):
    backend.configure()         # the report's gradient curves compile PyTensor functions,
    prepare_ops()               # which run rnnlab's ops
    if plan is not None:
        run_dirs, failed, out_dir = _grid(args, plan, client, print)
        if not run_dirs:
            print(f"error: all {len(failed)} runs failed; see the logs in {out_dir / 'logs'}",
                  file=sys.stderr)
            return 1
        title = f"{args.config.stem}: " + (", ".join(f"{k} over {', '.join(v)}"
                                                    for k, v in vary) or "seeds")
    else:
        run_dirs, failed = list(args.items), []
        out_dir = _make_out_dir(args, Path(args.items[0]).resolve().parent, "compare")
        title = f"{len(run_dirs)} runs"
    records = load_runs(run_dirs)
    forecasts, forecast_failed = _forecasts(args, client, records, out_dir, print)
    if forecasts:
        records = load_runs(run_dirs, forecasts=forecasts)
    gradients = None if args.no_gradients else ("trained" if args.gradients else "init")
    paths = write_report(out_dir, records, title=title, command=command,
                         failed=failed + forecast_failed, gradients=gradients)
    print(f"report: {paths['md']}")
    return 1 if failed or forecast_failed else 0


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
