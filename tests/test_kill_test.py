"""Real training processes killed with SIGKILL at random moments lose nothing.

Runs ``scripts/kill_test.py`` (see its docstring) with 10 kills: after every kill each
checkpoint on disk loads and ``latest`` never steps back, and every run resumed to the end
reproduces the uninterrupted run's parameters, optimizer state and dropout generators bit for
bit.  The script runs 50 kills (or more) the same way.
"""

import importlib.util
from pathlib import Path

import pytest

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
