"""Real training processes killed with SIGKILL or SIGTERM at random moments lose nothing.

Runs ``scripts/kill_test.py`` (see its docstring) with 10 kills: after every kill each
checkpoint on disk loads and ``latest`` never steps back, and every run resumed to the end
reproduces the uninterrupted run's parameters, optimizer state and dropout generators bit for
bit.  The script runs 50 kills (or more) the same way.  With three SIGTERMs each terminated
process exits with 143 and ``stop_reason: "terminated"``, and the resumed run is bitwise equal.
Two real trainers of one run directory: the second exits 2 naming the lock and the first's pid.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.run.metrics_log import read_metrics

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("kill_test", ROOT / "scripts" / "kill_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kill_test = _load_script()


def test_ten_sigkills_lose_no_checkpoint_and_resuming_is_bitwise_exact(tmp_path):
    stats = kill_test.kill_test(10, tmp_path, seed=0, steps=6, every=2)
    assert stats["kills"] == 10 and stats["checks"] == 10 and stats["runs"] >= 1
    finished = {p.name for p in tmp_path.iterdir()}
    assert finished == {"reference"} | {f"killed{i}" for i in range(stats["runs"])}


def test_sigterms_at_random_moments_record_terminated_and_resuming_is_bitwise_exact(tmp_path):
    stats = kill_test.terminate_test(3, tmp_path, seed=0, steps=6, every=2)
    assert stats["signals"] == 3 == stats["terminated"] + stats["after the end"]
    assert stats["terminated"] >= 1 and stats["checks"] == 3 and stats["runs"] >= 1


def test_a_second_trainer_of_a_run_being_trained_exits_2_naming_the_lock(tmp_path):
    env = kill_test._environment("FAST_COMPILE")
    run = tmp_path / "busy"
    # Long enough (20 evaluations, some 10 s) that the second process starts and stops meanwhile.
    first = kill_test._Training(kill_test._fresh(tmp_path, "busy", 40, 2), env)
    try:
        assert first.training.wait(120), "".join(first.lines)
        config_file = (run / "config.json").read_bytes()
        second = subprocess.run([sys.executable, "-m", "rnnlab.train", "--resume", str(run)],
                                cwd=kill_test.ROOT, env=env, capture_output=True, text=True,
                                timeout=120)
        still_training = first.process.poll() is None
    except BaseException:
        first.process.kill()
        raise
    first.finish("the first trainer")
    assert (second.returncode, second.stdout) == (2, ""), second.stderr
    assert second.stderr == (f"error: run directory {run} is being written by process "
                             f"{first.process.pid} (lock file {run / '.lock'})\n")
    assert still_training and (run / "config.json").read_bytes() == config_file
    steps = [row["step"] for row in read_metrics(run / "metrics.csv", increasing=True)]
    assert steps == list(range(2, 42, 2))


def test_a_checkpoint_that_steps_back_or_does_not_load_fails_the_check(tmp_path):
    import shutil

    from rnnlab.run.checkpoint import save_checkpoint
    from rnnlab.errors import CheckpointError

    run = tmp_path / "run"
    save_checkpoint(run / "checkpoints" / "latest", {}, {"loop": {"step": 3}})
    assert kill_test.check_after_kill(run, 2, set()) == (3, set())
    with pytest.raises(AssertionError, match="latest went back from step 4 to 3"):
        kill_test.check_after_kill(run, 4, set())
    (run / "checkpoints" / "latest.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError):
        kill_test.check_after_kill(run, None, set())
    shutil.rmtree(run)
    assert kill_test.check_after_kill(run, None, set()) == (None, set())
