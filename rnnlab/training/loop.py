"""Training one run: :func:`train` and its loop (steps, evaluations, checkpoints, divergence).

The loop knows neither the cell type nor the data kind: batches, carried states, metrics and
samples come from the task (:mod:`rnnlab.tasks`).  Every ``train.eval_every`` steps it evaluates
on the validation split, appends a row to ``metrics.csv``, saves ``latest`` (and ``best`` when the
validation loss improved), writes a sample and redraws the learning curves.  A run without a
validation part (``data.val_fraction = 0``: a model refitted on all the data for a known number
of steps) logs the training loss only, and its ``best`` is its ``latest``.  A checkpoint holds the
parameters, the optimizer state, the carried states and, in its JSON, the loop's counters once
(``"loop"``: step, epoch, position in the epoch, best validation loss, ...; :class:`_Loop`), the
learning rate in force and the dropout generators, so a resumed run continues bitwise exactly
(:func:`_restore`).

The run has diverged when a training step's loss or gradient norm is NaN or infinite, or its
loss exceeds ``train.explode_factor`` times the first training loss.  A step's loss measures the
parameters *before* its update, so a bad update shows one step late; an evaluation therefore
checks the parameters it is about to save the same way, on the next training batch (and checks
that the validation loss is finite), and saves nothing when they fail: ``latest`` only ever holds
parameters that passed.  With ``train.on_divergence = "stop"`` the run stops there; with
``"halve"`` the loop reloads ``checkpoints/latest`` (the last good state), halves the learning
rate and goes on, at most ``train.max_retries`` times in the whole run.  The halvings are part of
the loop's state, so a resumed run retries exactly as an uninterrupted one.

:func:`train` holds the run directory's lock (:meth:`rnnlab.run.RunDir.lock`) from before its
first write to its last, so one process writes a run at a time.  Ctrl-C (``KeyboardInterrupt``)
or SIGTERM in a command process (:class:`rnnlab.errors.Terminated`) after training started
writes ``summary.json`` with ``stop_reason`` ``"interrupted"`` or ``"terminated"`` and keeps the
checkpoints of the last evaluation, from which ``--resume`` continues exactly.  Any other
exception but an :class:`~rnnlab.errors.RnnlabError` is a bug: its traceback goes to the run's
``traceback.txt`` (named by the exception's ``traceback_file``) and ``summary.json`` records
``stop_reason`` ``"crashed"``.
"""

import contextlib
import math
import numbers
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rnnlab import backend, config
from rnnlab.errors import CheckpointError, RnnlabError, Terminated, WriteError
from rnnlab.evaluation import plots
from rnnlab.files import remove_stale_temporaries
from rnnlab.run import RunDir
from rnnlab.run.checkpoint import (check_expected, checkpoint_paths, load_checkpoint,
                                   save_checkpoint)
from rnnlab.run.metrics_log import METRIC_COLUMNS, MetricsLog
from rnnlab.training.session import build_run_session, build_session
from rnnlab.training.state import (checkpoint_arrays, expected_arrays, random_state,
                                   restore_arrays, set_random_state)
from rnnlab.training.watch import Compiling, Pace, machine_load, throughput

__all__ = ["train", "lr_at", "divergence"]


def lr_at(train_cfg, step, scale=1.0):
    """The learning rate for the update after ``step`` completed updates.

    ``scale * train.lr * train.lr_decay ** (step // train.lr_decay_every)``; ``scale`` is
    ``0.5 ** n`` after ``n`` halvings of ``train.on_divergence = "halve"``.

    Parameters
    ----------
    train_cfg : rnnlab.config.TrainConfig
        The config's train section.
    step : int
        Updates completed.
    scale : float
        The factor of the halvings so far.

    Returns
    -------
    float

    Examples
    --------
    >>> from rnnlab.config import TrainConfig
    >>> lr_at(TrainConfig(lr=0.1, lr_decay=0.5, lr_decay_every=10), 25)
    0.025
    >>> lr_at(TrainConfig(lr=0.1, lr_decay=0.5, lr_decay_every=10), 25, scale=0.5)
    0.0125
    """
    return scale * train_cfg.lr * train_cfg.lr_decay ** (step // train_cfg.lr_decay_every)


def _compiles_lazily():
    """Whether the compile mode compiles on the first call (NUMBA, JAX) rather than up front."""
    return backend.settings()["mode"] in ("NUMBA", "JAX")


_COUNT, _NUMBER = "an integer >= 0", "a finite number"
_MAYBE_COUNT, _MAYBE_NUMBER = "an integer >= 0 or null", "a finite number or null"
#: The largest step a checkpoint may hold: float64 counts every step exactly below it.
MAX_STEP = 2**53


class _Loop:
    """The training loop's counters: everything beyond arrays that a resume must restore.

    Saved counters are checked for type and range (a forged ``latest.json`` must not train with
    a negative learning rate or "finish" at step 10**30); :meth:`check_position` checks the data
    position once the task is known.
    """

    FIELDS = {"step": _COUNT, "epoch": _COUNT, "index": _COUNT, "wall_time": _NUMBER,
              "first_loss": _MAYBE_NUMBER, "best_val": _MAYBE_NUMBER, "best_step": _MAYBE_COUNT,
              "bad_evals": _COUNT, "last_eval_step": _MAYBE_COUNT, "loss_sum": _NUMBER,
              "gnorm_sum": _NUMBER, "count": _COUNT, "lr_scale": _NUMBER, "retries": _COUNT}

    def __init__(self, states, **saved):
        self.step = self.epoch = self.index = self.bad_evals = self.count = self.retries = 0
        self.wall_time = self.loss_sum = self.gnorm_sum = 0.0
        self.lr_scale = 1.0
        self.first_loss = self.best_val = self.best_step = self.last_eval_step = None
        self.states = states
        for name, value in saved.items():
            if name not in self.FIELDS:
                raise CheckpointError(f"loop state has unknown field {name!r}; expected some of "
                                      f"{', '.join(self.FIELDS)}")
            if not _fits(value, self.FIELDS[name]):
                raise CheckpointError(f"loop state {name} = {value!r:.40}: expected "
                                      f"{self.FIELDS[name]}")
            setattr(self, name, value)
        if saved:
            self._check_ranges()

    def _check_ranges(self):
        step = self.step
        for name, ok, expected in (
                ("step", step <= MAX_STEP, f"at most 2**53 = {MAX_STEP}"),
                ("lr_scale", 0 < self.lr_scale <= 1, "a number in (0, 1]: the learning rate's "
                                                     "scale after halvings"),
                ("wall_time", self.wall_time >= 0, "a number >= 0"),
                ("epoch", self.epoch <= step, f"at most the step ({step})"),
                ("count", self.count <= step, f"at most the step ({step})"),
                ("best_step", self.best_step is None or self.best_step <= step,
                 f"null or at most the step ({step})"),
                ("last_eval_step", self.last_eval_step is None or self.last_eval_step <= step,
                 f"null or at most the step ({step})")):
            if not ok:
                value = getattr(self, name)
                raise CheckpointError(f"loop state {name} = {value!r:.40}: expected {expected}")

    def check_position(self, n_batches):
        """Check the data position against the task's ``n_batches`` per epoch."""
        if self.index >= n_batches:
            raise CheckpointError(f"loop state index = {self.index}: expected a batch position "
                                  f"below {n_batches}, the batches per epoch of the data")

    def to_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS}


def _fits(value, kind):
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind == _COUNT:
        return number and isinstance(value, numbers.Integral) and value >= 0
    if kind == _NUMBER:
        return number and math.isfinite(value)
    if value is None:
        return True
    return _fits(value, _COUNT if kind == _MAYBE_COUNT else _NUMBER)


def _restore(session, stem, arrays=None, saved=None):
    """Restore a training checkpoint into ``session``; return its :class:`_Loop`.

    ``arrays`` and ``saved`` are the checkpoint when the caller loaded it already; they are
    checked against the model here.  Every error names the checkpoint's file.
    """
    if arrays is None:
        arrays, saved = load_checkpoint(stem)
    json_path = checkpoint_paths(stem)[1]
    loop_state, generators = saved.get("loop"), saved.get("random_state")
    if not isinstance(loop_state, dict) or not isinstance(generators, list):
        raise CheckpointError(f"{json_path}: meta lacks 'loop' (an object) or 'random_state' (an "
                              f"array); expected a checkpoint written by rnnlab.train")
    check_expected(arrays, expected_arrays(session), stem)
    try:
        loop = _Loop([], **loop_state)
        set_random_state(session, generators)
    except CheckpointError as err:
        raise CheckpointError(f"{json_path}: {err}") from None
    loop.states = restore_arrays(session, arrays)
    return loop


def divergence(loss, gnorm, first_loss, factor, which="training loss"):
    """What went wrong (a phrase), or None when the loss and the gradient norm are sane.

    Parameters
    ----------
    loss, gnorm : float
        A step's loss and gradient norm (pass 0.0 for a norm that is not measured).
    first_loss : float or None
        The run's first training loss; None skips the explosion test.
    factor : float
        ``train.explode_factor``: the loss explodes above ``factor * first_loss``.
    which : str
        What ``loss`` is, for the phrase.

    Returns
    -------
    str or None

    Examples
    --------
    >>> divergence(2.0, 1.0, 4.2, 10.0) is None
    True
    >>> divergence(float("nan"), 1.0, 4.2, 10.0)
    'the training loss is nan'
    >>> divergence(50.0, 1.0, 4.2, 10.0)
    'the training loss 50 exceeds train.explode_factor x the first training loss (10 x 4.2)'
    """
    if not math.isfinite(loss):
        return f"the {which} is {loss}"
    if not math.isfinite(gnorm):
        return f"the gradient norm is {gnorm}"
    if first_loss is not None and loss > factor * first_loss:
        return (f"the {which} {loss:.4g} exceeds train.explode_factor x the first training "
                f"loss ({factor:g} x {first_loss:.4g})")
    return None


class _Trainer:
    def __init__(self, session, run_dir, loop, out=print):
        self.rundir = RunDir(run_dir)
        self.session, self.loop, self.out = session, loop, out
        self.task, self.fns = session.task, session.functions
        self.cfg = session.cfg
        self.tcfg = self.cfg.train
        self.log = MetricsLog(self.rundir.metrics_file, METRIC_COLUMNS)
        self.n_batches = self.task.batches_per_epoch()
        self.last_gnorm = math.nan
        self.pace = Pace(0.0, out, self.tcfg, self.n_batches)  # run() sets the real one

    def lr(self, step):
        return lr_at(self.tcfg, step, self.loop.lr_scale)

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, which):
        loop = self.loop
        meta = {"loop": loop.to_dict(), "lr": self.lr(loop.step),
                "random_state": random_state(self.session)}
        save_checkpoint(self.rundir.checkpoint(which),
                        checkpoint_arrays(self.session, loop.states), meta)

    def diverged(self, step, reason, loss):
        """The record of a divergence at ``step`` (also ``summary.json``'s ``diverged``)."""
        loop = self.loop
        return {"step": step, "reason": reason, "loss": loss, "grad_norm": self.last_gnorm,
                "lr": self.lr(step - 1),
                "last_good_checkpoint": RunDir.checkpoint_name("latest"),
                "last_good_step": loop.last_eval_step or 0, "retries": loop.retries}

    def retry(self, diverged):
        """Reload the last good checkpoint with half the learning rate (on_divergence=halve)."""
        old = self.loop
        self.loop = _restore(self.session, self.rundir.checkpoint("latest"))
        self.loop.lr_scale, self.loop.retries = old.lr_scale / 2, old.retries + 1
        self.out(f"step {diverged['step']}: {diverged['reason']} (gradient norm "
                 f"{diverged['grad_norm']:.4g}); retry {self.loop.retries} of "
                 f"{self.tcfg.max_retries}: learning rate halved to "
                 f"{self.lr(self.loop.step):.4g}, from {RunDir.checkpoint_name('latest')} "
                 f"(step {self.loop.step})")

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, scheduled):
        """Evaluate, log and save; return (stop early?, divergence record or None)."""
        loop = self.loop
        if not self.rundir.path.is_dir():
            raise WriteError(f"{self.rundir}: the run directory was removed during training; "
                             f"expected it to stay until the run ends (nothing more is written)")
        validated = self.task.has_split("val")
        found = self.task.evaluate(self.fns, "val") if validated else {"loss": None}
        ahead = self.loss_ahead()
        reason = ((validated and divergence(found["loss"], 0.0, None, 0.0,
                                             which="validation loss"))
                  or divergence(ahead, 0.0, loop.first_loss, self.tcfg.explode_factor,
                                 which="training loss of the next batch"))
        if reason:  # these parameters are bad: nothing is logged or saved
            return False, self.diverged(loop.step, reason, ahead)
        row = {"step": loop.step, "epoch": loop.epoch, "wall_time": loop.wall_time,
               "train_loss": loop.loss_sum / loop.count if loop.count else None,
               "grad_norm": loop.gnorm_sum / loop.count if loop.count else None,
               "lr": self.lr(max(loop.step - 1, 0)), "val_loss": found["loss"]}
        row.update({k: v for k, v in found.items() if k in METRIC_COLUMNS})
        loop.last_eval_step = loop.step
        # Without a validation part (a refit on all the data) the best checkpoint is the latest.
        improved = not validated or (math.isfinite(found["loss"]) and (
            loop.best_val is None or found["loss"] < loop.best_val))
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
        self.task.on_evaluation(self.session, loop.step, self.rundir)
        plots.plot_learning_curves(
            self.log.read(), self.rundir.plots_dir, ylabel=f"loss: {self.task.loss_label}",
            title=f"{self.rundir.path.name} on {Path(self.session.cfg.data.path).name}")
        # Every score of the validation part says so (metrics.csv keeps its column names).
        shown = " ".join(f"{name} {row[k]:.4g}" for k, name in (
            ("train_loss", "train_loss"), ("val_loss", "val_loss"), ("bpc", "val_bpc"),
            ("rmse", "val_rmse"), ("mase", "val_mase"), ("grad_norm", "grad_norm"), ("lr", "lr"))
            if row.get(k) is not None)
        self.out(f"step {loop.step} epoch {loop.epoch} {shown} ({loop.wall_time:.1f} s)"
                 f"{' *' if improved and validated else ''}")
        return bool(self.tcfg.patience and loop.bad_evals >= self.tcfg.patience), None

    # -- the loop --------------------------------------------------------------------------------
    def budget_reason(self):
        loop, tcfg = self.loop, self.tcfg
        if tcfg.max_steps and loop.step >= tcfg.max_steps:
            return "max_steps"
        if tcfg.max_epochs and loop.epoch >= tcfg.max_epochs:
            return "max_epochs"
        if tcfg.time_budget and loop.wall_time >= tcfg.time_budget:
            return "time_budget"
        return None

    def warm_up(self):
        """Call ``train`` twice and undo it: JIT compilation stays out of ``wall_time``.

        NUMBA and JAX compile on the first call, and NUMBA again when the arrays of the second
        call differ in memory layout from the first (parameters after an update); the other
        modes compile in ``pytensor.function`` and skip this.
        """
        loop = self.loop
        states = (self.fns.initial_states(self.tcfg.batch_size) if loop.index == 0
                  else loop.states)
        saved, generators = checkpoint_arrays(self.session, states), random_state(self.session)
        batch = self.task.train_batch(loop.epoch, loop.index)
        outputs = self.fns.train(*batch, *states)
        self.fns.train(*batch, *outputs[2:])
        restore_arrays(self.session, saved)
        set_random_state(self.session, generators)

    def loss_ahead(self):
        """The loss the next step will report (its parameters, its batch), without dropout."""
        loop = self.loop
        states = (self.fns.initial_states(self.tcfg.batch_size) if loop.index == 0
                  else loop.states)
        x, y = self.task.train_batch(loop.epoch, loop.index)
        return float(self.fns.evaluate(x, y, *states)[0])

    def step(self):
        """One update; return the divergence record, or None after a good step."""
        loop, tcfg = self.loop, self.tcfg
        if loop.index == 0:
            loop.states = self.fns.initial_states(tcfg.batch_size)  # each epoch from zeros
        self.fns.lr.set_value(np.asarray(self.lr(loop.step), dtype=self.fns.lr.dtype))
        started = time.perf_counter()
        x, y = self.task.train_batch(loop.epoch, loop.index)
        outputs = self.fns.train(x, y, *loop.states)
        loop.wall_time += time.perf_counter() - started
        loss, gnorm = float(outputs[0]), float(outputs[1])
        self.last_gnorm = gnorm
        reason = divergence(loss, gnorm, loop.first_loss, tcfg.explode_factor)
        if reason:
            # The parameters now hold the bad update: never save them.
            return self.diverged(loop.step + 1, reason, loss)
        loop.step += 1
        loop.states = list(outputs[2:])
        loop.index += 1
        if loop.index == self.n_batches:
            loop.epoch, loop.index = loop.epoch + 1, 0
        loop.first_loss = loss if loop.first_loss is None else loop.first_loss
        loop.loss_sum, loop.gnorm_sum, loop.count = (loop.loss_sum + loss,
                                                     loop.gnorm_sum + gnorm, loop.count + 1)
        if self.tcfg.time_budget:  # a bar counts steps; the budget is seconds: say what is left
            self.progress.set_postfix(loss=f"{loss:.4f}", gnorm=f"{gnorm:.3g}",
                                      left=f"{max(self.tcfg.time_budget - loop.wall_time, 0):.0f}s",
                                      refresh=False)
        else:
            self.progress.set_postfix(loss=f"{loss:.4f}", gnorm=f"{gnorm:.3g}", refresh=False)
        self.progress.update(1)
        self.pace.update(loop.step, loop.wall_time, loss)
        return None

    def run(self, progress):
        """Train until a budget, early stopping or divergence; return (stop reason, diverged)."""
        self.progress = progress
        self.pace = Pace(self.cfg.run.log_every if progress.disable else 0.0, self.out, self.tcfg,
                         self.n_batches)
        if self.budget_reason() is None and _compiles_lazily():
            self.out(f"compiling for {backend.settings()['mode']}: the first training calls")
            with Compiling() as compiled:
                self.warm_up()
            self.out(compiled.describe())
        self.pace.start(self.loop.step, self.loop.wall_time)
        if self.loop.step == 0 and self.loop.last_eval_step is None:
            self.save("latest")  # a last good checkpoint exists from the start
        while True:
            stop, diverged = self.budget_reason(), None
            if stop is None:
                diverged = self.step()
                due = self.loop.step % self.tcfg.eval_every == 0
            else:  # a last evaluation where the run stops, unless it just had one
                due = self.loop.last_eval_step != self.loop.step
            if diverged is None and due:
                early, diverged = self.evaluate(scheduled=stop is None)
                if early and diverged is None:
                    return "early_stopping", None
            if diverged is not None:
                if (self.tcfg.on_divergence == "halve"
                        and self.loop.retries < self.tcfg.max_retries):
                    self.retry(diverged)
                    progress.reset(total=progress.total)
                    progress.update(self.loop.step)
                    continue
                return "diverged", diverged
            if stop is not None:
                return stop, None

    def test_metrics(self):
        """Metrics of the test split under the best checkpoint (None without either)."""
        stem = self.rundir.checkpoint("best")
        if not self.task.has_split("test") or not stem.with_suffix(".json").is_file():
            return None
        arrays, _ = load_checkpoint(stem, expected_arrays(self.session))
        restore_arrays(self.session, arrays)
        return self.task.evaluate(self.fns, "test")


def _progress_bar(cfg, initial, epoch_steps):
    enabled = cfg.run.progress and sys.stderr.isatty()
    budgets = [n for n in (cfg.train.max_steps, cfg.train.max_epochs * epoch_steps) if n]
    total = min(budgets) if budgets else None
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
    load = machine_load()
    if cfg.run.progress and sys.stderr.isatty():  # a terminal: say why nothing moves yet
        print(f"compiling the {cfg.model.cell} network ...", file=sys.stderr, flush=True)
    with contextlib.ExitStack() as held:
        if run_dir is None:
            with Compiling() as compiled:
                session = build_session(cfg)
            loop = _Loop(session.functions.initial_states(cfg.train.batch_size))
            run = RunDir.create(cfg.run.dir, config.default_run_name(cfg, config_path))
            held.enter_context(run.lock())
            run.save_config(cfg)
            run.write_meta(dict(session.task.meta(), n_params=session.functions.n_params))
        else:
            run = RunDir(run_dir)
            held.enter_context(run.lock())  # one writer: fail before reading, let alone writing
            with Compiling() as compiled:
                session, loop = _prepare_resume(cfg, run)
        return _train(session, run, loop, cfg, dry_run, out,
                      started={"load": load, "compiled": compiled})


def _prepare_resume(cfg, run):
    """The session and loop of a run resumed from ``latest``; the run's files made consistent.

    Every file is checked before compiling, and everything before writing.
    """
    meta = run.read_meta()
    arrays, saved = load_checkpoint(run.checkpoint("latest"))
    log = MetricsLog(run.metrics_file, METRIC_COLUMNS)
    log.read()
    session = build_run_session(cfg, meta, run.path)
    loop = _restore(session, run.checkpoint("latest"), arrays, saved)
    n_batches = session.task.batches_per_epoch()  # reads and checks the data
    try:
        loop.check_position(n_batches)
    except CheckpointError as err:
        raise CheckpointError(f"{checkpoint_paths(run.checkpoint('latest'))[1]}: {err}") from None
    log.truncate_after(loop.step)     # rows of evaluations after the checkpoint: redone
    remove_stale_temporaries(run.path)
    run.save_config(cfg)
    return session, loop


def _train(session, run, loop, cfg, dry_run, out, started):
    """Train the prepared ``session`` in ``run`` (whose lock is held); return the summary.

    ``started``: the machine's load before the session was built and its :class:`Compiling`.
    """
    run_dir = session.run_dir = run.path
    trainer = _Trainer(session, run_dir, loop, out=out)
    trainer.started = started
    try:
        # From the first line that says training started, a stop records a summary.
        note = "" if _compiles_lazily() else f"; {started['compiled'].describe()}"
        out(f"run directory: {run_dir} ({session.functions.n_params} parameters{note})")
        with _progress_bar(cfg, loop.step, trainer.n_batches) as progress:
            if not progress.disable and out is print:
                trainer.out = progress.write  # lines above the bar, not through it
            stop, diverged = trainer.run(progress)
            summary = _summary(session, trainer, "dry_run" if dry_run else stop, diverged)
            run.write_summary(summary)
    except KeyboardInterrupt as stopped:
        # Ctrl-C, or SIGTERM in a command process (rnnlab.errors.Terminated): keep the
        # checkpoints of the last evaluation, record why the run ended, then let the command
        # report it.
        reason = "terminated" if isinstance(stopped, Terminated) else "interrupted"
        run.write_summary(_summary(session, trainer, reason, None, test=False))
        raise
    except RnnlabError:
        raise
    except Exception as err:
        # A bug: its traceback is kept beside the run (the command runner names the file) and
        # the summary says the run crashed, when the state still allows writing one.
        err.traceback_file = run.write_traceback(err)
        with contextlib.suppress(Exception):
            run.write_summary(_summary(session, trainer, "crashed", None, test=False))
        raise
    return dict(summary, run_dir=str(run_dir))


def _summary(session, trainer, stop, diverged, test=True):
    loop, cfg = trainer.loop, session.cfg
    rows = [dict(row, step=int(row["step"]), epoch=int(row["epoch"]))
            for row in trainer.log.read()]
    best = next((row for row in rows if row["step"] == loop.best_step), None)
    return {"run": trainer.rundir.path.name, "kind": session.task.kind,
            "cell": cfg.model.cell, "seed": cfg.train.seed, "stop_reason": stop,
            "steps": loop.step, "epochs": loop.epoch + loop.index / trainer.n_batches,
            "wall_time": loop.wall_time, "n_params": session.functions.n_params,
            "best_step": loop.best_step, "best": best, "final": rows[-1] if rows else None,
            "test": trainer.test_metrics() if test else None, "diverged": diverged,
            "retries": loop.retries,
            "throughput": throughput(loop.step, loop.wall_time, *session.task.step_items()),
            "load": {"start": trainer.started["load"], "end": machine_load()}}
