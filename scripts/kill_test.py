"""Kill real training processes with SIGKILL at random moments, resume them, compare bitwise.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python scripts/kill_test.py            # 50 kills
    .venv/bin/python scripts/kill_test.py 200 --seed 1 --keep /tmp/kills
    .venv/bin/python scripts/kill_test.py 20 --signal TERM   # SIGTERMs instead (see below)

A tiny character model (``experiments/smoke_text.toml``: Elman, 8 units, dropout, a decaying
learning rate, two epochs) is trained once without interruption to ``train.max_steps``, and
its start-up and training times measured.  Then the same run is started as
``python -m rnnlab.train`` and killed (SIGKILL: no cleanup, no ``finally``) after a random
delay, so kills land anywhere: importing, compiling, training, evaluating, and in the middle of
writing checkpoints, metrics, samples and plots (by default it evaluates and checkpoints after
every step).  After
each kill every checkpoint on disk must load (``load_checkpoint`` checks its SHA-256, manifest
and arrays), and ``latest`` must never step back.  The run is then resumed with ``--resume``
(or started afresh when it was killed before its first checkpoint, having nothing to resume)
and killed again, until it finishes; its final parameters, optimizer state and dropout
generators must then equal the uninterrupted run's bit for bit.  Runs are repeated until the
number of kills asked for is reached.  ``max_steps`` is the stop criterion (never a time
budget, which a resumed run would spend differently), and every process uses the same compile
mode, so bitwise equality is what exactness means.

Three kills in four come at a random moment of the training itself (after the process printed
``run directory: ...``), where the files are written; the others anywhere in the process's life.
The summary counts the kills, where they landed (while starting or training; before the first
checkpoint; leaving the temporary file of an interrupted write; between a checkpoint's commit
point and its final rename), and the runs compared.  Exit status 0 when every check held, 1 otherwise.
``tests/test_kill_test.py`` runs the same code with 10 kills.

``--signal TERM`` sends SIGTERM instead, always at a random moment of the training, to one run
resumed after each signal until it finishes (:func:`terminate_test`): each terminated process
must exit with status 143 and one line, having written ``summary.json`` with ``stop_reason:
"terminated"`` and left no temporary file, every checkpoint must load, and the run resumed to the
end must equal the uninterrupted run bit for bit, as after SIGKILL.  A signal that arrives after
the command finished (its summary written, or its handler already restored) is counted as such.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rnnlab, in this process and (below) its children

from rnnlab.run.checkpoint import load_checkpoint  # noqa: E402

#: The run every process trains: small, several epochs, every source of state exercised.
SETTINGS = ["--config", str(ROOT / "experiments" / "smoke_text.toml"),
            f"data.path={ROOT / 'data' / 'shakespeare.txt'}", "data.max_chars=1000",
            "model.cell=elman", "model.hidden=8", "model.dropout=0.1", "train.lr_decay=0.5",
            "train.lr_decay_every=5", "train.eval_batches=1", "run.sample_length=5",
            "run.progress=false"]
STEPS, EVERY = 12, 1


def _environment(mode):
    env = dict(os.environ, PYTHONPATH=str(ROOT), RNNLAB_MODE=mode)
    env.setdefault("RNNLAB_CACHE_DIR", str(ROOT / ".cache" / "pytensor"))
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def _fresh(root, name, steps, every):
    return [*SETTINGS, f"train.max_steps={steps}", f"train.eval_every={every}", f"run.dir={root}",
            f"run.name={name}"]


class _Training:
    """A ``python -m rnnlab.train`` process whose output a thread reads (so it never blocks)."""

    def __init__(self, argv, env):
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rnnlab.train", *argv], cwd=ROOT,
            env=dict(env, PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.training = threading.Event()  # set at "run directory: ...": built, about to train
        self.ended = threading.Event()     # its output ended: it exited
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line)
                if line.startswith("run directory:"):
                    self.training.set()
        self.ended.set()

    def kill_after(self, delay, since_training, signal_number=signal.SIGKILL):
        """Send ``signal_number`` (SIGKILL) ``delay`` seconds after the start (or after training
        began) and wait for the process to end; True if the signal was sent."""
        while since_training and not (self.training.wait(0.01) or self.ended.is_set()):
            pass
        start = time.perf_counter() if since_training else self.started
        try:
            self.process.wait(timeout=max(0.0, start + delay - time.perf_counter()))
            return False
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal_number)
            self.process.wait()
            self.reader.join()
            return True

    def finish(self, what):
        self.process.wait()
        self.reader.join()
        output = "".join(self.lines)
        if self.process.returncode != 0 or "Traceback" in output:
            raise AssertionError(f"{what} exited with {self.process.returncode}: "
                                 f"{output.strip()[-2000:]}")


def final_state(run):
    """What a finished run must reproduce: the arrays and generators of ``latest``."""
    arrays, meta = load_checkpoint(run / "checkpoints" / "latest")
    return arrays, meta["random_state"], meta["loop"]["step"]


def reference(root, steps, every, env):
    """Train without interruption; return (final state, seconds to start, seconds training)."""
    run = _Training(_fresh(root, "reference", steps, every), env)
    run.training.wait()
    trained_from = time.perf_counter()
    run.finish("the uninterrupted run")
    done = time.perf_counter()
    return final_state(root / "reference"), trained_from - run.started, done - trained_from


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def check_after_kill(run, last_step, seen):
    """Load every checkpoint on disk; return (step of latest or None, where the kill landed).

    ``seen`` holds the temporary files found after earlier kills (a new one means this kill
    interrupted a write).
    """
    evidence, step = set(), None
    folder = run / "checkpoints"
    for which in ("latest", "best"):
        if not (folder / f"{which}.json").is_file():
            continue
        _, meta = load_checkpoint(folder / which)  # raises if it does not load
        step = meta["loop"]["step"] if which == "latest" else step
        committed = json.loads((folder / f"{which}.json").read_text())["sha256"]
        if (_sha256(folder / f"{which}.next.npz") == committed
                and _sha256(folder / f"{which}.npz") != committed):
            evidence.add("between commit and rename")
    if step is not None and last_step is not None and step < last_step:
        raise AssertionError(f"{run}: latest went back from step {last_step} to {step}")
    temporaries = set(run.rglob(".*.tmp"))
    if temporaries - seen:
        evidence.add("mid-write")
    seen |= temporaries
    return step, evidence


def kill_and_resume(root, name, steps, every, expected, timing, rng, env, budget, stats):
    """Train one run to the end under random kills (at most ``budget``); compare bitwise.

    A kill comes at a uniformly random moment of a process's life, or, three times in four, of
    its training (after ``run directory: ...``), where the files are written.  ``timing`` holds
    the uninterrupted run's seconds to start and seconds training; a resumed process has only
    the steps after its checkpoint left to train, and its window shrinks with them, to half.
    """
    run, last_step, seen = root / name, None, set()
    start_up, full = timing
    while True:
        training = full * max(0.5, (steps - (last_step or 0)) / steps)
        if (run / "checkpoints" / "latest.json").is_file():
            process = _Training(["--resume", str(run)], env)
        else:  # killed before its first checkpoint: nothing to resume, start again
            shutil.rmtree(run, ignore_errors=True)
            process = _Training(_fresh(root, name, steps, every), env)
        if stats["kills"] >= budget:
            process.finish(f"{run} (last process)")
            break
        since_training = rng.random() < 0.75
        delay = rng.uniform(0, training if since_training else start_up + training)
        if not process.kill_after(delay, since_training):
            process.finish(str(run))
            break
        stats["kills"] += 1
        stats["while training" if process.training.is_set() else "while starting"] += 1
        last_step, evidence = check_after_kill(run, last_step, seen)
        stats["checks"] += 1
        if last_step is None:
            evidence.add("before the first checkpoint")
        for kind in evidence:
            stats[kind] = stats.get(kind, 0) + 1
    if not _same_state(run, expected):
        raise AssertionError(f"{run}: the resumed run's final state differs from the "
                             f"uninterrupted run's")
    stats["runs"] += 1


def _same_state(run, expected):
    arrays, generators, step = final_state(run)
    want_arrays, want_generators, want_step = expected
    return (step == want_step and generators == want_generators and sorted(arrays) ==
            sorted(want_arrays) and all(arrays[k].tobytes() == want_arrays[k].tobytes()
                                        for k in arrays))


def check_after_term(process, run, steps):
    """After SIGTERM: ``'terminated'``, or ``'after the end'`` when the command had finished.

    A terminated process exited with status 143 and the one line ``terminated (SIGTERM)``, no
    traceback, wrote ``summary.json`` with ``stop_reason: "terminated"`` and removed every
    temporary file.  A signal that came after the command's summary (status 143 with a finished
    summary) or after its handler was restored, while the interpreter shut down (killed by the
    signal, having printed ``done:``), or to a process that had already exited by itself (status
    0), finds a finished run.
    """
    code, output = process.process.returncode, "".join(process.lines)
    summary_file = run / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    finished = summary.get("stop_reason") == "max_steps" and summary.get("steps") == steps
    if "Traceback" in output:
        raise AssertionError(f"{run}: a traceback after SIGTERM: {output.strip()[-2000:]}")
    if code == -signal.SIGTERM and finished and "\ndone: " in f"\n{output}":
        return "after the end"
    if code == 0 and finished:      # it ended by itself just before the signal was sent
        return "after the end"
    if code != 128 + signal.SIGTERM:
        raise AssertionError(f"{run}: exit status {code} after SIGTERM; expected 143: "
                             f"{output.strip()[-2000:]}")
    if finished:
        return "after the end"
    if output.splitlines()[-1:] != ["terminated (SIGTERM)"]:
        raise AssertionError(f"{run}: expected the last line 'terminated (SIGTERM)': "
                             f"{output.strip()[-2000:]}")
    if summary.get("stop_reason") != "terminated":
        raise AssertionError(f"{run}: summary.json has stop_reason "
                             f"{summary.get('stop_reason')!r}; expected 'terminated'")
    temporaries = sorted(str(path) for path in run.rglob(".*.tmp"))
    if temporaries:
        raise AssertionError(f"{run}: SIGTERM left temporary files: {', '.join(temporaries)}")
    return "terminated"


def terminate_and_resume(root, name, steps, every, expected, timing, rng, env, budget, stats):
    """Train one run to the end under SIGTERMs (at most ``budget``), resuming after each;
    compare bitwise.

    Each signal comes at a uniformly random moment of the process's training (after ``run
    directory: ...``), whose window shrinks with the steps left, as in :func:`kill_and_resume`.
    """
    run, last_step, seen = root / name, None, set()
    full = timing[1]
    while True:
        training = full * max(0.5, (steps - (last_step or 0)) / steps)
        if (run / "checkpoints" / "latest.json").is_file():
            process = _Training(["--resume", str(run)], env)
        else:  # terminated before its first checkpoint: nothing to resume, start again
            shutil.rmtree(run, ignore_errors=True)
            process = _Training(_fresh(root, name, steps, every), env)
        if stats["signals"] >= budget:
            process.finish(f"{run} (last process)")
            break
        if not process.kill_after(rng.uniform(0, training), True, signal.SIGTERM):
            process.finish(str(run))
            break
        stats["signals"] += 1
        outcome = check_after_term(process, run, steps)
        stats[outcome] += 1
        last_step, _ = check_after_kill(run, last_step, seen)
        stats["checks"] += 1
        if last_step is None:
            stats["before the first checkpoint"] += 1
        if outcome == "after the end":
            break
    if not _same_state(run, expected):
        raise AssertionError(f"{run}: the resumed run's final state differs from the "
                             f"uninterrupted run's")
    stats["runs"] += 1


def terminate_test(signals, root, seed=0, steps=STEPS, every=EVERY, mode="FAST_COMPILE"):
    """Send SIGTERM, check, resume and compare until ``signals`` were sent; return statistics.

    Raises AssertionError at a terminated process that did not exit with status 143 and
    ``stop_reason: "terminated"``, a checkpoint that does not load, a ``latest`` that steps back,
    a process that fails, or a final state that differs from the uninterrupted run's.
    """
    env, rng, root = _environment(mode), random.Random(seed), Path(root)
    expected, *timing = reference(root, steps, every, env)
    stats = {"signals": 0, "checks": 0, "runs": 0, "terminated": 0, "after the end": 0,
             "before the first checkpoint": 0, "timing": timing}
    while stats["signals"] < signals:
        terminate_and_resume(root, f"terminated{stats['runs']}", steps, every, expected, timing,
                             rng, env, signals, stats)
    return stats


def kill_test(kills, root, seed=0, steps=STEPS, every=EVERY, mode="FAST_COMPILE"):
    """Kill, resume and compare until ``kills`` kills were made; return the statistics.

    Raises AssertionError at the first checkpoint that does not load, a ``latest`` that steps
    back, a process that fails, or a final state that differs from the uninterrupted run's.
    """
    env, rng, root = _environment(mode), random.Random(seed), Path(root)
    expected, *timing = reference(root, steps, every, env)
    stats = {"kills": 0, "checks": 0, "runs": 0, "while starting": 0, "while training": 0,
             "timing": timing}
    while stats["kills"] < kills:
        kill_and_resume(root, f"killed{stats['runs']}", steps, every, expected, timing, rng,
                        env, kills, stats)
    return stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kills", nargs="?", type=int, default=50,
                        help="signals to deliver (default 50)")
    parser.add_argument("--signal", choices=("KILL", "TERM"), default="KILL",
                        help="SIGKILL at any moment (default), or SIGTERM during training")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--steps", type=int, default=STEPS, help="train.max_steps of each run")
    parser.add_argument("--every", type=int, default=EVERY,
                        help="train.eval_every: steps between checkpoints")
    parser.add_argument("--mode", default="FAST_COMPILE", help="compile mode of every process")
    parser.add_argument("--keep", type=Path, help="folder for the runs (kept); default a "
                                                 "temporary folder, removed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rnnlab-kills-"))
    test = terminate_test if args.signal == "TERM" else kill_test
    try:
        stats = test(args.kills, folder, args.seed, args.steps, args.every, args.mode)
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    start_up, training = stats["timing"]
    timing = (f"({args.steps} steps, {args.mode}; uninterrupted run: {start_up:.1f} s starting, "
              f"{training:.1f} s training; total {time.perf_counter() - started:.0f} s)")
    if args.signal == "TERM":
        landed = ", ".join(f"{stats[kind]} {kind}" for kind in (
            "terminated", "after the end", "before the first checkpoint"))
        print(f"{stats['signals']} SIGTERMs ({landed}); each terminated process exited with "
              f"143 and summary.json's stop_reason 'terminated', every checkpoint loaded "
              f"({stats['checks']} checks); {stats['runs']} resumed runs reproduced the "
              f"uninterrupted run's parameters bitwise {timing}")
        return 0
    landed = ", ".join(f"{stats.get(kind, 0)} {kind}" for kind in (
        "while starting", "while training", "before the first checkpoint", "mid-write",
        "between commit and rename"))
    print(f"{stats['kills']} SIGKILLs ({landed}); every checkpoint on disk loaded after each "
          f"({stats['checks']} checks); {stats['runs']} resumed runs reproduced the "
          f"uninterrupted run's parameters bitwise {timing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
