"""What a person watching a run sees besides the evaluations: compiling, pace, time left, load.

:class:`Compiling` times a compile and counts the files it added to the compile cache (the
cache's own record of whether the graph was compiled before); :class:`Pace` writes a plain
progress line every ``run.log_every`` seconds when no progress bar is shown (output to a file
or a pipe); :func:`throughput` and :func:`machine_load` are what ``summary.json`` records so
that time-budget comparisons can be read against the machine's load.
"""

import math
import os
import time
from pathlib import Path

from rnnlab import backend

__all__ = ["Compiling", "Pace", "throughput", "machine_load", "time_left"]


def _cache_files():
    """The number of files in the compile cache (PyTensor's, and below it Numba's and ours)."""
    root = Path(backend.settings()["cache_dir"])
    return sum(len(files) for _, _, files in os.walk(root)) if root.is_dir() else 0


class Compiling:
    """Time a compile and count the compile cache's new files.

    Examples
    --------
    >>> with Compiling() as compiled:
    ...     pass
    >>> compiled.seconds >= 0, compiled.new_files, compiled.describe().startswith("compiled in")
    (True, 0, True)
    """

    def __enter__(self):
        self.files, self.started = _cache_files(), time.perf_counter()
        self.seconds = self.new_files = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.new_files = max(_cache_files() - self.files, 0)
        return False

    def describe(self):
        """``"compiled in 14.2 s (a first compile: 12 new files in the compile cache)"``, or
        ``"... (all from the compile cache)"``; FAST_COMPILE caches nothing and says so."""
        if backend.settings()["mode"] == "FAST_COMPILE":
            where = "FAST_COMPILE runs Python code and caches nothing"
        elif self.new_files:
            where = f"a first compile: {self.new_files} new files in the compile cache"
        else:
            where = "all from the compile cache"
        return f"compiled in {self.seconds:.1f} s ({where})"


def time_left(train_cfg, step, epoch_steps, wall_time, rate):
    """Seconds of training left under the nearest budget, or None without one.

    Parameters
    ----------
    train_cfg : rnnlab.config.TrainConfig
        ``max_steps``, ``max_epochs`` and ``time_budget``.
    step : int
        Steps done.
    epoch_steps : int
        Batches per epoch.
    wall_time : float
        Seconds of training so far.
    rate : float
        Steps per second.

    Returns
    -------
    float or None

    Examples
    --------
    >>> from rnnlab.config import TrainConfig
    >>> time_left(TrainConfig(max_steps=1000, time_budget=60.0), 400, 50, 10.0, 20.0)
    30.0
    >>> time_left(TrainConfig(max_steps=0), 400, 50, 10.0, 20.0) is None
    True
    """
    left = []
    if train_cfg.max_steps:
        left.append(max(train_cfg.max_steps - step, 0) / rate if rate > 0 else math.inf)
    if train_cfg.max_epochs:
        steps = max(train_cfg.max_epochs * epoch_steps - step, 0)
        left.append(steps / rate if rate > 0 else math.inf)
    if train_cfg.time_budget:
        left.append(max(train_cfg.time_budget - wall_time, 0.0))
    return min(left) if left else None


def _duration(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class Pace:
    """Plain progress lines every ``every`` seconds of the clock (0: none).

    Parameters
    ----------
    every : float
        Seconds between lines; 0 writes none.
    out : callable
        Receives each line.
    train_cfg : rnnlab.config.TrainConfig
        The budgets, for the time left.
    epoch_steps : int
        Batches per epoch.
    clock : callable
        Seconds of a monotonic clock (default :func:`time.monotonic`).

    Examples
    --------
    >>> from rnnlab.config import TrainConfig
    >>> lines, now = [], iter([0.0, 31.0, 31.0])
    >>> pace = Pace(30.0, lines.append, TrainConfig(max_steps=100), 10, clock=lambda: next(now))
    >>> pace.start(step=0, wall_time=0.0)
    >>> pace.update(step=50, wall_time=5.0, loss=1.25)
    >>> lines
    ['step 50/100: 10.0 steps/s, train_loss 1.25, time left 5 s']
    """

    def __init__(self, every, out, train_cfg, epoch_steps, clock=time.monotonic):
        self.every, self.out, self.train_cfg, self.epoch_steps = every, out, train_cfg, epoch_steps
        self.clock = clock
        self.last = self.first_step = self.first_wall = None

    def start(self, step, wall_time):
        """Remember where this session's training starts (steps per second count from here)."""
        self.last, self.first_step, self.first_wall = self.clock(), step, wall_time

    def update(self, step, wall_time, loss):
        """Write a line when ``every`` seconds have passed since the last one."""
        if not self.every or self.last is None:
            return
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        spent = wall_time - self.first_wall
        rate = (step - self.first_step) / spent if spent > 0 else 0.0
        total = f"/{self.train_cfg.max_steps}" if self.train_cfg.max_steps else ""
        left = time_left(self.train_cfg, step, self.epoch_steps, wall_time, rate)
        self.out(f"step {step}{total}: {rate:.1f} steps/s, train_loss {loss:.4g}"
                 + (f", time left {_duration(left)}" if left is not None else ""))


def throughput(steps, wall_time, items_per_step, unit):
    """Steps and items (characters, windows) per second of training, for ``summary.json``.

    Examples
    --------
    >>> throughput(100, 4.0, 3200, "chars")
    {'steps_per_s': 25.0, 'chars_per_s': 80000.0}
    """
    if wall_time <= 0:
        return {"steps_per_s": None, f"{unit}_per_s": None}
    return {"steps_per_s": steps / wall_time, f"{unit}_per_s": steps * items_per_step / wall_time}


def machine_load():
    """The machine's 1-minute load average and its CPU count (None where the OS has none).

    Examples
    --------
    >>> sorted(machine_load())
    ['cpus', 'load_1min']
    """
    try:
        load = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load = None
    return {"load_1min": load, "cpus": os.cpu_count()}
