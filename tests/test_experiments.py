"""The Lasagne-idiom example in experiments/ runs unchanged for a few steps."""

import importlib.util
from pathlib import Path

import numpy as np

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lasagne_char_lstm_example_trains_and_samples(tmp_path, capsys):
    text = tmp_path / "tiny.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 20, encoding="utf-8")
    example = _load("lasagne_char_lstm")
    sample = example.main(["--text", str(text), "--seq-len", "8", "--hidden", "16",
                           "--batch-size", "8", "--steps", "6", "--print-every", "3",
                           "--sample-len", "30"])
    out = capsys.readouterr().out
    losses = [float(line.split("train loss ")[1].split()[0])
              for line in out.splitlines() if line.startswith("step ")]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert len(sample) == 8 + 30 and set(sample) <= set(text.read_text())
