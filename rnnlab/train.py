"""``python -m rnnlab.train``: train one model from a config into a new run directory.

The command checks everything first (config, data file, sizes, device) and builds and compiles
the model before it writes anything, so a bad config costs one line and exit code 2.  Then it
trains, writing into ``<run.dir>/<run.name>/`` (never an existing directory)::

    config.json   meta.json   metrics.csv   summary.json
    checkpoints/latest.{npz,json}  checkpoints/best.{npz,json}
    plots/loss_vs_step.png  plots/loss_vs_time.png  samples/step_000100.txt (text)

The loop knows neither the cell type nor the data kind: batches, carried states, metrics and
samples come from the task (:mod:`rnnlab.tasks`).  Every ``train.eval_every`` steps it evaluates
on the validation split, appends a row to ``metrics.csv``, saves ``latest`` (and ``best`` when the
validation loss improved), writes a sample and redraws the learning curves.  A checkpoint holds the
parameters, the optimizer state, the carried states and, in its JSON, the data position, the
dropout generators and the loop's counters, so ``--resume RUN`` continues bitwise exactly.

``wall_time`` counts training steps only (not compiling, evaluating, sampling or saving); it
accumulates across resumes and is what ``train.time_budget`` limits.  ``summary.json`` holds:
``stop_reason`` (``max_steps``, ``max_epochs``, ``time_budget``, ``early_stopping``,
``diverged``, ``dry_run``, ``interrupted``), ``steps``, ``epochs`` (fractional), ``wall_time``,
``n_params``, ``best_step``, ``best`` (the metrics row of the best evaluation), ``final`` (the
last row), ``test`` (the test split's metrics under the best checkpoint, or null), ``diverged``
(step, loss, gradient norm and last good checkpoint, or null).
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from rnnlab import backend, config, plots
from rnnlab.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.cli import add_common_arguments, console_script
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.runs import METRIC_COLUMNS, MetricsLog, create_run_dir, read_json, write_json
# rnnlab.session imports no PyTensor at module level: build_session configures the backend first.
from rnnlab.session import (build_session, checkpoint_arrays, expected_arrays, random_state,
                            restore_arrays, set_random_state)

__all__ = ["main", "train", "RESUME_KEYS", "lr_at"]

#: Settings that ``--resume`` may change: budgets and reporting, never what a step computes.
RESUME_KEYS = ("train.max_steps", "train.max_epochs", "train.time_budget", "train.patience",
               "train.eval_every", "run.progress", "device.device", "device.mode")

EXAMPLES = """examples:
  python -m rnnlab.train --config experiments/shakespeare_lstm.toml
  python -m rnnlab.train --config experiments/shakespeare_elman.toml train.time_budget=600
  python -m rnnlab.train --config experiments/airline_lstm.toml model.hidden=64 train.seed=1
  python -m rnnlab.train --config experiments/smoke_text.toml --dry-run run.dir=/tmp/runs
  python -m rnnlab.train --resume runs/shakespeare_lstm-lstm-s0 train.time_budget=1200

Also installed as the command rnnlab-train.
exit codes: 0 trained; 1 stopped because the loss became NaN/inf or exploded (the last good
checkpoint is kept); 2 bad config, data, device or checkpoint (one line, nothing written);
130 interrupted.

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
    run_dir = args.resume
    if not (run_dir / "config.json").is_file():
        raise RnnlabError(f"{run_dir}: not a run directory (no config.json)")
    for text in overrides:
        section, key, _ = config.parse_override(text)
        if f"{section}.{key}" not in RESUME_KEYS:
            raise ConfigError(f"{text}: {section}.{key} cannot change when resuming; expected "
                              f"one of {', '.join(RESUME_KEYS)}")
    return config.load(run_dir / "config.json", overrides), run_dir


def _dry_run_config(cfg):
    """One step, one (short) evaluation, a short sample."""
    cfg = {section: dict(values) for section, values in cfg.items()}
    cfg["train"].update(max_steps=1, eval_every=1, eval_batches=1, max_epochs=0,
                        time_budget=0.0)
    cfg["run"]["sample_length"] = min(cfg["run"]["sample_length"], 20)
    return cfg


def lr_at(train_cfg, step):
    """The learning rate for the update after ``step`` completed updates.

    ``train.lr * train.lr_decay ** (step // train.lr_decay_every)``.

    Examples
    --------
    >>> lr_at({"lr": 0.1, "lr_decay": 0.5, "lr_decay_every": 10}, 25)
    0.025
    """
    return train_cfg["lr"] * train_cfg["lr_decay"] ** (step // train_cfg["lr_decay_every"])


def _compiles_lazily():
    """Whether the compile mode compiles on the first call (NUMBA, JAX) rather than up front."""
    return backend.settings()["mode"] in ("NUMBA", "JAX")


class _Loop:
    """The training loop's counters: everything beyond arrays that a resume must restore."""

    FIELDS = ("step", "epoch", "index", "wall_time", "first_loss", "best_val", "best_step",
              "bad_evals", "last_eval_step", "loss_sum", "gnorm_sum", "count")

    def __init__(self, states, **saved):
        self.step = self.epoch = self.index = self.bad_evals = self.count = 0
        self.wall_time = self.loss_sum = self.gnorm_sum = 0.0
        self.first_loss = self.best_val = self.best_step = self.last_eval_step = None
        self.states = states
        for name, value in saved.items():
            if name not in self.FIELDS:
                raise RnnlabError(f"checkpoint loop state has unknown field {name!r}")
            setattr(self, name, value)

    def to_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS}


class _Trainer:
    def __init__(self, session, run_dir, loop, out=print):
        self.session, self.run_dir, self.loop, self.out = session, run_dir, loop, out
        self.task, self.fns = session.task, session.functions
        self.cfg = session.cfg
        self.tcfg = self.cfg["train"]
        self.log = MetricsLog(run_dir / "metrics.csv", METRIC_COLUMNS)
        self.n_batches = self.task.batches_per_epoch()

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, which):
        loop = self.loop
        meta = {"step": loop.step, "epoch": loop.epoch, "data_position": [loop.epoch, loop.index],
                "lr": lr_at(self.tcfg, loop.step), "best_val_loss": loop.best_val,
                "random_state": random_state(self.session), "loop": loop.to_dict()}
        save_checkpoint(self.run_dir / "checkpoints" / which,
                        checkpoint_arrays(self.session, loop.states), meta)

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, scheduled):
        loop = self.loop
        found = self.task.evaluate(self.fns, "val")
        row = {"step": loop.step, "epoch": loop.epoch, "wall_time": loop.wall_time,
               "train_loss": loop.loss_sum / loop.count if loop.count else None,
               "grad_norm": loop.gnorm_sum / loop.count if loop.count else None,
               "lr": lr_at(self.tcfg, max(loop.step - 1, 0)), "val_loss": found["loss"]}
        row.update({k: v for k, v in found.items() if k in METRIC_COLUMNS})
        loop.last_eval_step = loop.step
        improved = math.isfinite(found["loss"]) and (loop.best_val is None
                                                    or found["loss"] < loop.best_val)
        if improved:
            loop.best_val, loop.best_step = found["loss"], loop.step
        if scheduled:
            # An extra evaluation where a run stops (off the eval_every grid) leaves the running
            # means and the patience count alone, so a resumed run logs what an uninterrupted
            # one does.
            loop.bad_evals = 0 if improved else loop.bad_evals + 1
            loop.loss_sum = loop.gnorm_sum = 0.0
            loop.count = 0
        self.log.append(row)
        if improved:
            self.save("best")
        self.save("latest")
        self.task.on_evaluation(self.session, loop.step, self.run_dir)
        plots.plot_learning_curves(self.log.read(), self.run_dir / "plots",
                                   title=self.run_dir.name)
        shown = " ".join(f"{k} {row[k]:.4g}" for k in ("train_loss", "val_loss", "bpc", "rmse",
                                                        "mase", "grad_norm", "lr")
                         if row.get(k) is not None)
        self.out(f"step {loop.step} epoch {loop.epoch} {shown} ({loop.wall_time:.1f} s)"
                 f"{' *' if improved else ''}")
        return self.tcfg["patience"] and loop.bad_evals >= self.tcfg["patience"]

    # -- the loop --------------------------------------------------------------------------------
    def budget_reason(self):
        loop, tcfg = self.loop, self.tcfg
        if tcfg["max_steps"] and loop.step >= tcfg["max_steps"]:
            return "max_steps"
        if tcfg["max_epochs"] and loop.epoch >= tcfg["max_epochs"]:
            return "max_epochs"
        if tcfg["time_budget"] and loop.wall_time >= tcfg["time_budget"]:
            return "time_budget"
        return None

    def warm_up(self):
        """Call ``train`` twice and undo it: JIT compilation stays out of ``wall_time``.

        NUMBA and JAX compile on the first call, and NUMBA again when the arrays of the second
        call differ in memory layout from the first (parameters after an update); the other
        modes compile in ``pytensor.function`` and skip this.
        """
        loop = self.loop
        states = (self.task.initial_states(self.tcfg["batch_size"]) if loop.index == 0
                  else loop.states)
        saved, generators = checkpoint_arrays(self.session, states), random_state(self.session)
        batch = self.task.train_batch(loop.epoch, loop.index)
        outputs = self.fns.train(*batch, *states)
        self.fns.train(*batch, *outputs[2:])
        restore_arrays(self.session, saved)
        set_random_state(self.session, generators)

    def run(self, progress):
        loop, tcfg, task, fns = self.loop, self.tcfg, self.task, self.fns
        n_batches, batch_size = self.n_batches, tcfg["batch_size"]
        if self.budget_reason() is None and _compiles_lazily():
            self.warm_up()
        if loop.step == 0 and loop.last_eval_step is None:
            self.save("latest")  # a last good checkpoint exists from the start
        diverged, stop = None, None
        while True:
            stop = self.budget_reason()
            if stop:
                break
            if loop.index == 0:
                loop.states = task.initial_states(batch_size)  # each epoch starts from zeros
            fns.lr.set_value(np.asarray(lr_at(tcfg, loop.step), dtype=fns.lr.dtype))
            started = time.perf_counter()
            x, y = task.train_batch(loop.epoch, loop.index)
            outputs = fns.train(x, y, *loop.states)
            loop.wall_time += time.perf_counter() - started
            loss, gnorm = float(outputs[0]), float(outputs[1])
            exploded = loop.first_loss is not None and loss > tcfg["explode_factor"] * \
                loop.first_loss
            if exploded or not (math.isfinite(loss) and math.isfinite(gnorm)):
                # The parameters now hold the bad update: stop without saving them.
                diverged = {"step": loop.step + 1, "loss": loss, "grad_norm": gnorm,
                            "last_good_checkpoint": "checkpoints/latest",
                            "last_good_step": loop.last_eval_step or 0}
                stop = "diverged"
                break
            loop.step += 1
            loop.states = list(outputs[2:])
            loop.index += 1
            if loop.index == n_batches:
                loop.epoch, loop.index = loop.epoch + 1, 0
            loop.first_loss = loss if loop.first_loss is None else loop.first_loss
            loop.loss_sum, loop.gnorm_sum, loop.count = (loop.loss_sum + loss,
                                                         loop.gnorm_sum + gnorm, loop.count + 1)
            progress.set_postfix(loss=f"{loss:.4f}", gnorm=f"{gnorm:.3g}", refresh=False)
            progress.update(1)
            if loop.step % tcfg["eval_every"] == 0 and self.evaluate(scheduled=True):
                stop = "early_stopping"
                break
        if diverged is None and loop.last_eval_step != loop.step:
            self.evaluate(scheduled=False)
        return stop, diverged

    def test_metrics(self):
        """Metrics of the test split under the best checkpoint (None without either)."""
        stem = self.run_dir / "checkpoints" / "best"
        if not self.task.has_split("test") or not stem.with_suffix(".json").is_file():
            return None
        arrays, _ = load_checkpoint(stem, expected_arrays(self.session))
        restore_arrays(self.session, arrays)
        return self.task.evaluate(self.fns, "test")


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
    meta = read_json(run_dir / "meta.json") if run_dir is not None else None
    session = build_session(cfg, meta=meta)
    if run_dir is None:
        loop = _Loop(session.task.initial_states(cfg["train"]["batch_size"]))
        run_dir = create_run_dir(cfg["run"]["dir"], config.default_run_name(cfg, config_path))
        config.save_resolved(cfg, run_dir / "config.json")
        write_json(run_dir / "meta.json", dict(session.task.meta(),
                                               n_params=session.functions.n_params))
    else:
        arrays, saved = load_checkpoint(run_dir / "checkpoints" / "latest",
                                        expected_arrays(session))
        loop = _Loop(restore_arrays(session, arrays), **saved["loop"])
        set_random_state(session, saved["random_state"])
        session.task.batches_per_epoch()  # reads and checks the data before anything changes
        config.save_resolved(cfg, run_dir / "config.json")
    session.run_dir = run_dir
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
            write_json(run_dir / "summary.json", _summary(session, trainer, "interrupted", None,
                                                          test=False))
            raise
    summary = _summary(session, trainer, "dry_run" if dry_run else stop, diverged)
    write_json(run_dir / "summary.json", summary)
    return dict(summary, run_dir=str(run_dir))


def _summary(session, trainer, stop, diverged, test=True):
    loop, cfg = trainer.loop, session.cfg
    rows = [dict(row, step=int(row["step"]), epoch=int(row["epoch"]))
            for row in trainer.log.read()]
    best = next((row for row in rows if row["step"] == loop.best_step), None)
    return {"run": trainer.run_dir.name, "kind": session.task.kind,
            "cell": cfg["model"]["cell"], "seed": cfg["train"]["seed"], "stop_reason": stop,
            "steps": loop.step, "epochs": loop.epoch + loop.index / trainer.n_batches,
            "wall_time": loop.wall_time, "n_params": session.functions.n_params,
            "best_step": loop.best_step, "best": best, "final": rows[-1] if rows else None,
            "test": trainer.test_metrics() if test else None, "diverged": diverged}


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
        print(f"stopped: loss {diverged['loss']:.4g} at step {diverged['step']} (gradient norm "
              f"{diverged['grad_norm']:.4g}); the last good checkpoint is "
              f"{Path(summary['run_dir']) / diverged['last_good_checkpoint']} (step "
              f"{diverged['last_good_step']})", file=sys.stderr)
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
