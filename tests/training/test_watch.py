"""rnnlab.training.watch through rnnlab.train: what compiles, plain progress lines, throughput."""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from rnnlab import backend
from rnnlab.commands.train import main

ROOT = Path(__file__).resolve().parents[2]


def _train(tmp_path, command, name, *extra):
    code, out, err = command(main, [
        "--config", ROOT / "experiments" / "smoke_text.toml", f"run.dir={tmp_path}",
        f"run.name={name}", "data.max_chars=2000", "model.hidden=4", "train.max_steps=40",
        "train.eval_every=20", "run.sample_length=5", *extra])
    assert code == 0, err
    return out.splitlines(), json.loads((tmp_path / name / "summary.json").read_text())


def test_a_run_without_a_terminal_says_what_compiled_and_writes_plain_progress(tmp_path,
                                                                              command):
    lines, summary = _train(tmp_path, command, "a", "run.log_every=0.000001")
    first = lines[0]
    assert first.startswith(f"run directory: {tmp_path / 'a'} (") and "compiled in" in first
    if backend.settings()["mode"] == "FAST_COMPILE":  # the suite's mode
        assert "FAST_COMPILE runs Python code and caches nothing" in first
    plain = [line for line in lines if "steps/s" in line]
    assert plain and all(line.startswith("step ") and "/40: " in line and "time left" in line
                         for line in plain)
    steps = [int(line.split("/")[0].split()[1]) for line in plain]
    assert steps == sorted(steps) and 1 <= steps[0] and steps[-1] <= 40
    # throughput in the summary: characters are steps x batch_size x seq_len
    rate = summary["throughput"]
    assert rate["steps_per_s"] == pytest.approx(40 / summary["wall_time"])
    assert rate["chars_per_s"] == pytest.approx(rate["steps_per_s"] * 4 * 16)  # smoke_text.toml
    assert set(summary["load"]) == {"start", "end"} and summary["load"]["end"]["cpus"] >= 1


def test_no_plain_lines_with_log_every_0(tmp_path, command):
    lines, _ = _train(tmp_path, command, "b", "run.log_every=0")
    assert not [line for line in lines if "steps/s" in line]


def test_a_second_compile_of_one_graph_comes_from_the_cache(monkeypatch):
    from rnnlab.training import watch

    counts = iter([0, 7, 7, 7])   # files in the cache: before and after each of two compiles
    monkeypatch.setattr(watch, "_cache_files", lambda: next(counts))
    monkeypatch.setattr(watch.backend, "settings", lambda: {"mode": "CVM", "cache_dir": ""})
    with watch.Compiling() as first:
        pass
    with watch.Compiling() as second:
        pass
    assert "a first compile: 7 new files in the compile cache" in first.describe()
    assert "all from the compile cache" in second.describe()


def test_on_a_terminal_a_line_says_what_compiles_before_the_progress_bar(tmp_path):
    """stderr is a pseudo-terminal: the compile notice comes first, then tqdm's bar with a total."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a real size
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnlab.train", "--config",
         str(ROOT / "experiments" / "smoke_text.toml"), f"run.dir={tmp_path}", "run.name=tty",
         "data.max_chars=2000", "model.hidden=4", "train.max_steps=6", "train.eval_every=3",
         "run.sample_length=5", "run.progress=true"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 300
    while time.monotonic() < deadline:                   # a hung child fails, never hangs
        if not select.select([master], [], [], 1.0)[0]:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:                                   # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    else:
        process.kill()
    out, _ = process.communicate(timeout=300)
    os.close(master)
    err = b"".join(chunks).decode()
    assert process.returncode == 0, err
    assert err.startswith("compiling the lstm network ...\r\n"), err[:200]
    assert "6/6" in err                                 # the bar knows its total
    assert out.startswith(f"run directory: {tmp_path / 'tty'} (")
    assert "compiling" not in out
