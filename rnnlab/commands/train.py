"""``python -m rnnlab.train``: train one model from a config into a new run directory.

The command checks everything first (config, data file, sizes, device) and builds and compiles
the model before it writes anything, so a bad config costs one line and exit code 2.  Then it
trains, writing into ``<run.dir>/<run.name>/`` (never an existing directory)::

    config.json   meta.json   metrics.csv   summary.json
    checkpoints/latest.{npz,json}  checkpoints/best.{npz,json}
    plots/loss_vs_step.png  plots/loss_vs_time.png  samples/step_000100.txt (text)

The loop (:mod:`rnnlab.training.loop`) evaluates every ``train.eval_every`` steps, appending a row
to ``metrics.csv`` and saving ``latest`` (and ``best``), a sample and the learning curves. Every
file is written atomically, so a run killed at any instant (even ``kill -9``) keeps whole
checkpoints, and ``--resume RUN`` continues from ``latest`` bitwise exactly: parameters, optimizer
state, learning-rate schedule, dropout generators and data position (the rows logged after that
checkpoint are dropped and logged again). A loss that becomes NaN/inf or explodes stops the run
(exit code 1) with the step, the gradient norm and the last good checkpoint, or, with
``train.on_divergence = "halve"``, retries from that checkpoint with half the learning rate.

``wall_time`` counts training steps only (not compiling, evaluating, sampling or saving); it
accumulates across resumes and is what ``train.time_budget`` limits.  ``summary.json`` holds:
``stop_reason`` (``max_steps``, ``max_epochs``, ``time_budget``, ``early_stopping``,
``diverged``, ``dry_run``, ``interrupted`` (Ctrl-C), ``terminated`` (SIGTERM)), ``steps``,
``epochs`` (fractional), ``wall_time``, ``n_params``, ``best_step``, ``best`` (the metrics row
of the best evaluation), ``final`` (the last row), ``test`` (the test split's metrics under the
best checkpoint, or null), ``diverged`` (step, reason, loss, gradient norm, learning rate and
last good checkpoint, or null), ``retries`` (learning-rate halvings after a divergence),
``throughput`` (``steps_per_s`` and ``chars_per_s`` or ``windows_per_s`` of training) and
``load`` (the machine's 1-minute load average and CPU count when this session started and when
it ended: a time budget buys fewer steps on a busy machine).  The console shows what compiles
and whether the compile cache had it; without a progress bar (output to a file or a pipe) it
writes a plain line every ``run.log_every`` seconds with the steps per second and the time left.

One process writes a run at a time: training holds the lock of the run directory
(:meth:`rnnlab.run.RunDir.lock`) from before its first write, so a second ``--resume`` of a run
being trained fails at once with one line naming the holder's pid (exit code 2).  SIGTERM is
handled like Ctrl-C: the checkpoints of the last evaluation are kept, ``summary.json`` records
``terminated``, and ``--resume`` continues bitwise exactly.
"""

import argparse
import sys
from pathlib import Path

from rnnlab import config
from rnnlab.commands.cli import Once, add_common_arguments, console_script
from rnnlab.errors import ConfigError
from rnnlab.run import RunDir
from rnnlab.training import train

__all__ = ["main", "RESUME_KEYS"]

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
file could not be written (disk full, permission denied; earlier files are kept), or the run
directory is being trained by another process; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).

config keys (a config file overrides these defaults; section.key=value overrides the file):
"""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.train", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a recurrent network (Elman, LSTM or GRU) on text or a time series; "
                    "every run gets its own directory with config, metrics, checkpoints, plots "
                    "and samples.",
        epilog=EXAMPLES + "\n" + config.describe())
    parser.add_argument("--config", type=Path, action=Once,
                        help="TOML config file (see experiments/)")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value",
                        help="override config values, e.g. model.cell=elman train.lr=0.001")
    parser.add_argument("--device", choices=("cpu", "gpu"),
                        help="shorthand for device.device=...")
    parser.add_argument("--resume", type=Path, action=Once, metavar="RUN_DIR",
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
    return cfg.replace(train={"max_steps": 1, "eval_every": 1, "eval_batches": 1,
                              "max_epochs": 0, "time_budget": 0.0},
                       run={"sample_length": min(cfg.run.sample_length, 20)})


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
    val_loss = best.get("val_loss")
    found = (f"best val_loss {val_loss:.4f} at step {summary['best_step']}" if val_loss is not None
             else "no validation part, so the best checkpoint is the latest")
    print(f"done: {summary['stop_reason']} after {summary['steps']} steps "
          f"({summary['wall_time']:.1f} s of training); {found}; {summary['run_dir']}")
    return 0


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
