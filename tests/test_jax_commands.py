"""Under the JAX backend a run resumes bitwise, and sample, forecast and compare work on it.

JAX is an optional test dependency (``pip install -r requirements-jax.txt``); CI installs it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.run.checkpoint import load_checkpoint

pytest.importorskip("jax", reason="JAX is not installed (pip install -r requirements-jax.txt)")

ROOT = Path(__file__).resolve().parent.parent
TEXT = ROOT / "experiments" / "smoke_text.toml"


def command(name, *argv):
    done = subprocess.run([sys.executable, "-m", f"rnnlab.{name}", *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout, done.stderr


def ok(name, *argv):
    code, out, err = command(name, *argv)
    assert code == 0, err[-3000:]
    return out


def test_a_jax_run_resumes_bitwise(tmp_path):
    common = ["--config", TEXT, "device.mode=JAX", "data.max_chars=1000", "train.eval_every=4",
              "run.progress=false", f"run.dir={tmp_path}"]
    ok("train", *common, "train.max_steps=12", "run.name=straight")
    ok("train", *common, "train.max_steps=5", "run.name=stopped")
    ok("train", "--resume", tmp_path / "stopped", "train.max_steps=12")
    straight, meta = load_checkpoint(tmp_path / "straight" / "checkpoints" / "latest")
    resumed, meta_resumed = load_checkpoint(tmp_path / "stopped" / "checkpoints" / "latest")
    assert meta["loop"]["step"] == meta_resumed["loop"]["step"] == 12
    assert sorted(straight) == sorted(resumed) and any(k.startswith("opt/") for k in straight)
    for name, array in straight.items():
        assert array.tobytes() == resumed[name].tobytes(), name


def test_sample_forecast_and_compare_run_under_jax(tmp_path):
    ok("train", "--config", TEXT, "device.mode=JAX", f"run.dir={tmp_path}", "run.name=text")
    ok("train", "--config", TEXT, "device.mode=JAX", "model.cell=gru", f"run.dir={tmp_path}",
       "run.name=gru")
    ok("train", "--config", ROOT / "experiments" / "smoke_series.toml", "device.mode=JAX",
       f"run.dir={tmp_path}", "run.name=series")
    sample = ok("sample", tmp_path / "text", "--length", "40", "--prime", "ROMEO:")
    assert sample.startswith("ROMEO:") and len(sample.rstrip("\n")) >= 40
    assert "forecast.csv" in ok("forecast", tmp_path / "series")
    report = ok("compare", tmp_path / "text", tmp_path / "gru", "--out", tmp_path / "report")
    assert (tmp_path / "report" / "report.md").is_file() and "report:" in report


def test_dropout_under_jax_is_a_one_line_error_before_anything_is_written(tmp_path):
    code, out, err = command("train", "--config", TEXT, "device.mode=JAX", "model.dropout=0.3",
                             f"run.dir={tmp_path / 'runs'}")
    assert code == 2 and err.count("\n") == 1 and "model.dropout = 0.3" in err
    assert not (tmp_path / "runs").exists()
