"""``python -m rnnlab.train``: train one model from a config into a new run directory.

The command checks everything first (config, data file, sizes, device) and builds and compiles
the model before it writes anything, so a bad config costs one line and exit code 2.  Then it
trains, writing into ``<run.dir>/<run.name>/`` (never an existing directory)::

    config.json   meta.json   metrics.csv   summary.json
    checkpoints/latest.{npz,json}  checkpoints/best.{npz,json}
    plots/loss_vs_step.png  plots/loss_vs_time.png  samples/step_000100.txt (text)

The loop (:mod:`rnnlab.trainer`) evaluates every ``train.eval_every`` steps, appending a row to
``metrics.csv`` and saving ``latest`` (and ``best``), a sample and the learning curves.  Every
file is written atomically, so a run killed at any instant (even ``kill -9``) keeps whole
checkpoints, and ``--resume RUN`` continues from ``latest`` bitwise exactly: parameters,
optimizer state, learning-rate schedule, dropout generators and data position (the rows logged
after that checkpoint are dropped and logged again).  A loss that becomes NaN/inf or explodes
stops the run (exit code 1) with the step, the gradient norm and the last good checkpoint, or,
with ``train.on_divergence = "halve"``, retries from that checkpoint with half the learning rate.

``wall_time`` counts training steps only (not compiling, evaluating, sampling or saving); it
accumulates across resumes and is what ``train.time_budget`` limits.  ``summary.json`` holds:
``stop_reason`` (``max_steps``, ``max_epochs``, ``time_budget``, ``early_stopping``,
``diverged``, ``dry_run``, ``interrupted``), ``steps``, ``epochs`` (fractional), ``wall_time``,
``n_params``, ``best_step``, ``best`` (the metrics row of the best evaluation), ``final`` (the
last row), ``test`` (the test split's metrics under the best checkpoint, or null), ``diverged``
(step, reason, loss, gradient norm, learning rate and last good checkpoint, or null) and
``retries`` (learning-rate halvings after a divergence).
"""

import argparse
import sys
from pathlib import Path

from rnnlab import config
from rnnlab.checkpoint import load_checkpoint
from rnnlab.cli import add_common_arguments, console_script
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.run import RunDir
from rnnlab.metrics_log import METRIC_COLUMNS, MetricsLog
from rnnlab.runs import remove_stale_temporaries
# rnnlab.session imports no PyTensor at module level: build_session configures the backend first.
from rnnlab.session import build_run_session, build_session
from rnnlab.trainer import _Loop, _Trainer, lr_at, _restore

__all__ = ["main", "train", "RESUME_KEYS", "lr_at"]

#: Settings that ``--resume`` may change: budgets, reporting and what to do on divergence, never
#: what a step computes.
RESUME_KEYS = ("train.max_steps", "train.max_epochs", "train.time_budget", "train.patience",
               "train.eval_every", "train.on_divergence", "train.max_retries", "run.progress",
               "device.device", "device.mode")

EXAMPLES = """examples:
  python -m rnnlab.train --config experiments/shakespeare_lstm.toml
  python -m rnnlab.train --config experiments/shakespeare_elman.toml train.time_budget=600
  python -m rnnlab.train --config experiments/airline_lstm.toml model.hidden=64 train.seed=1
  python -m rnnlab.train --config experiments/smoke_text.toml --dry-run run.dir=/tmp/runs
  python -m rnnlab.train --resume runs/shakespeare_lstm-lstm-s0 train.time_budget=1200

Also installed as the command rnnlab-train.
exit codes: 0 trained; 1 stopped because the loss became NaN/inf or exploded (the last good
checkpoint is kept); 2 bad config, data, device or checkpoint (one line, nothing written), or a
file could not be written (disk full, permission denied; earlier files are kept); 130 interrupted.

config keys (a config file overrides these defaults; section.key=value overrides the file):
"""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.train", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a recurrent network (Elman, LSTM or GRU) on text or a time series; "
                    "every run gets its own directory with config, metrics, checkpoints, plots "
                    "and samples.",
        epilog=EXAMPLES + "\n" + config.describe())
    parser.add_argument("--config", type=Path, help="TOML config file (see experiments/)")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value",
                        help="override config values, e.g. model.cell=elman train.lr=0.001")
    parser.add_argument("--device", choices=("cpu", "gpu"),
                        help="shorthand for device.device=...")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue a run from its latest checkpoint, exactly; overrides may "
                             "change only " + ", ".join(RESUME_KEYS))
    parser.add_argument("--dry-run", action="store_true",
                        help="build everything, run one training step and one evaluation, "
                             "write the run directory and exit")
    return add_common_arguments(parser)


def _resolve(args):
    """The config to train with, and the run directory to resume (or None)."""
    overrides = list(args.overrides) + ([f"device.device={args.device}"] if args.device else [])
    if args.resume is None:
        if args.config is None:
            raise ConfigError("no config: give --config FILE (see experiments/) or --resume RUN")
        return config.load(args.config, overrides), None
    if args.config is not None:
        raise ConfigError("give --config or --resume, not both (a resumed run keeps its config)")
    if args.dry_run:
        raise ConfigError("--dry-run cannot be combined with --resume")
    run = RunDir(args.resume).check()
    for text in overrides:
        section, key, _ = config.parse_override(text)
        if f"{section}.{key}" not in RESUME_KEYS:
            raise ConfigError(f"{text}: {section}.{key} cannot change when resuming; expected "
                              f"one of {', '.join(RESUME_KEYS)}")
    return run.load_config(overrides, check_files=True), run.path


def _dry_run_config(cfg):
    """One step, one (short) evaluation, a short sample."""
    cfg = {section: dict(values) for section, values in cfg.items()}
    cfg["train"].update(max_steps=1, eval_every=1, eval_batches=1, max_epochs=0,
                        time_budget=0.0)
    cfg["run"]["sample_length"] = min(cfg["run"]["sample_length"], 20)
    return cfg


def _progress_bar(cfg, initial):
    from tqdm import tqdm

    enabled = cfg["run"]["progress"] and sys.stderr.isatty()
    total = cfg["train"]["max_steps"] or None
    return tqdm(total=total, initial=initial, disable=not enabled, unit="step",
                dynamic_ncols=True, file=sys.stderr, leave=False)


def train(cfg, run_dir=None, config_path=None, dry_run=False, out=print):
    """Train (or resume) one run; return its summary.

    Parameters
    ----------
    cfg : dict
        A resolved config.
    run_dir : pathlib.Path, optional
        An existing run to resume from its latest checkpoint; by default a new run directory is
        created under ``run.dir`` (after the session is built, so failures write nothing).
    config_path : str or os.PathLike, optional
        The config file, for the default run name.
    dry_run : bool
        ``cfg`` is already the dry-run config; recorded in the summary.
    out : callable
        Receives one line per evaluation and the closing lines.

    Returns
    -------
    dict
        The contents of ``summary.json`` (with ``run_dir`` added).

    Examples
    --------
    >>> import tempfile, pathlib, rnnlab
    >>> root = pathlib.Path(rnnlab.__file__).parent.parent
    >>> tmp = tempfile.TemporaryDirectory()
    >>> cfg = config.load(root / "experiments" / "smoke_series.toml",
    ...                   [f"data.path={root / 'data' / 'airline_passengers.csv'}",
    ...                    f"run.dir={tmp.name}", "model.cell=elman", "model.hidden=4",
    ...                    "train.max_steps=3", "train.eval_every=2"])
    >>> summary = train(cfg, out=lambda line: None)
    >>> summary["steps"], summary["stop_reason"], summary["best"]["step"] in (2, 3)
    (3, 'max_steps', True)
    >>> sorted(summary["test"])
    ['loss', 'mae', 'mase', 'rmse']
    >>> tmp.cleanup()
    """
    if run_dir is None:
        session = build_session(cfg)
        loop = _Loop(session.task.initial_states(cfg["train"]["batch_size"]))
        run = RunDir.create(cfg["run"]["dir"], config.default_run_name(cfg, config_path))
        run.save_config(cfg)
        run.write_meta(dict(session.task.meta(),
                                               n_params=session.functions.n_params))
    else:
        # Check every file before compiling, and everything before writing.
        run = RunDir(run_dir)
        meta = run.read_meta()
        arrays, saved = load_checkpoint(run.checkpoint("latest"))
        log = MetricsLog(run.metrics_file, METRIC_COLUMNS)
        log.read()
        session = build_run_session(cfg, meta, run.path)
        loop = _restore(session, run.checkpoint("latest"), arrays, saved)
        session.task.batches_per_epoch()  # reads and checks the data
        log.truncate_after(loop.step)     # rows of evaluations after the checkpoint: redone
        remove_stale_temporaries(run.path)
        run.save_config(cfg)
    run_dir = session.run_dir = run.path
    out(f"run directory: {run_dir} ({session.functions.n_params} parameters)")
    trainer = _Trainer(session, run_dir, loop, out=out)
    with _progress_bar(cfg, loop.step) as progress:
        if not progress.disable and out is print:
            trainer.out = progress.write  # lines above the bar, not through it
        try:
            stop, diverged = trainer.run(progress)
        except KeyboardInterrupt:
            # Keep the checkpoints of the last evaluation; record why the run ended, then let
            # the command report the interruption.
            run.write_summary(_summary(session, trainer, "interrupted", None, test=False))
            raise
    summary = _summary(session, trainer, "dry_run" if dry_run else stop, diverged)
    run.write_summary(summary)
    return dict(summary, run_dir=str(run_dir))


def _summary(session, trainer, stop, diverged, test=True):
    loop, cfg = trainer.loop, session.cfg
    rows = [dict(row, step=int(row["step"]), epoch=int(row["epoch"]))
            for row in trainer.log.read()]
    best = next((row for row in rows if row["step"] == loop.best_step), None)
    return {"run": trainer.rundir.path.name, "kind": session.task.kind,
            "cell": cfg["model"]["cell"], "seed": cfg["train"]["seed"], "stop_reason": stop,
            "steps": loop.step, "epochs": loop.epoch + loop.index / trainer.n_batches,
            "wall_time": loop.wall_time, "n_params": session.functions.n_params,
            "best_step": loop.best_step, "best": best, "final": rows[-1] if rows else None,
            "test": trainer.test_metrics() if test else None, "diverged": diverged,
            "retries": loop.retries}


def main(argv=None):
    """Run ``python -m rnnlab.train`` with ``argv``; return the exit code (see ``--help``).

    Examples
    --------
    >>> main(["--config", "no/such.toml"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: no/such.toml: config file not found
    """
    args = _parser().parse_intermixed_args(argv)
    cfg, run_dir = _resolve(args)
    if args.dry_run:
        cfg = _dry_run_config(cfg)
    summary = train(cfg, run_dir=run_dir, config_path=args.config, dry_run=args.dry_run)
    diverged = summary["diverged"]
    if diverged:
        retried = (f" after {diverged['retries']} halvings of the learning rate"
                   if diverged["retries"] else "")
        print(f"stopped at step {diverged['step']}{retried}: {diverged['reason']} (gradient "
              f"norm {diverged['grad_norm']:.4g}, learning rate {diverged['lr']:.4g}); the last "
              f"good checkpoint is {Path(summary['run_dir']) / diverged['last_good_checkpoint']} "
              f"(step {diverged['last_good_step']})", file=sys.stderr)
        return 1
    best = summary["best"] or {}
    print(f"done: {summary['stop_reason']} after {summary['steps']} steps "
          f"({summary['wall_time']:.1f} s of training); best val_loss "
          f"{best.get('val_loss', float('nan')):.4f} at step {summary['best_step']}; "
          f"{summary['run_dir']}")
    return 0


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
