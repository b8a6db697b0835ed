"""The Lasagne-style programs of experiments/lasagne/, each run for a few steps.

Each program runs in a fresh process as a user would start it, with small sizes given as options,
from a temporary folder (the text program finds its default file through its own path, not the
current folder).  PyTensor runs in FAST_COMPILE without a C compiler (``cxx=``), so no test
waits for a compile cache to fill; the graphs are the same.
"""

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "experiments" / "lasagne"
ADDITION = "addition_task.py"
TEXT = "char_lstm_generation.py"
SMALL_ADDITION = ["--epochs", "3", "--epoch-size", "20", "--batch-size", "32",
                  "--min-length", "8", "--max-length", "12", "--hidden", "16", "--lr", "0.05"]


def run_example(name, tmp_path, *options):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTENSOR_", "RNNLAB_", "NUMBA_"))}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTENSOR_FLAGS=f"mode=FAST_COMPILE,cxx=,base_compiledir={tmp_path / 'pytensor'}")
    return subprocess.run([sys.executable, "-W", "error", "-W", "ignore::ResourceWarning",
                           str(EXAMPLES / name), *options],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def _numbers(pattern, stdout):
    return [float(value) for value in re.findall(pattern, stdout, flags=re.M)]


def _load(name):
    spec = importlib.util.spec_from_file_location(Path(name).stem, EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ok(result):
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


def test_the_addition_task_learns_more_than_the_mean_answer(tmp_path):
    result = run_example(ADDITION, tmp_path, *SMALL_ADDITION)
    _ok(result)
    costs = _numbers(r"^epoch \d+: validation cost (\S+)$", result.stdout)
    assert len(costs) == 3 and all(math.isfinite(c) for c in costs), result.stdout
    # The baseline from the program's own generator, drawn as the program draws it.
    program = _load(ADDITION)
    _, _, sums = program.validation_batch(program.parse_args(SMALL_ADDITION))[0]
    assert sums.shape == (32,) and 0 <= sums.min() and sums.max() <= 2
    baseline = float(np.var(sums))
    printed = _numbers(r"^always answering the mean costs (\S+) on the validation batch$",
                       result.stdout)
    assert printed == [pytest.approx(baseline, rel=1e-4)], result.stdout
    assert costs[-1] < 0.8 * baseline, (costs, baseline)


def test_the_addition_batches_mark_two_steps_inside_each_sequence():
    program = _load(ADDITION)
    inputs, mask, sums = program.addition_batch(np.random.RandomState(3), 200, 10, 30)
    lengths = mask.sum(axis=1).astype(int)
    assert inputs.shape == (200, 30, 2) and 10 <= lengths.min() and lengths.max() <= 30
    assert np.all(mask == (np.arange(30) < lengths[:, None]))
    assert np.all(inputs[..., 1].sum(axis=1) == 2) and np.all(inputs[mask == 0] == 0)
    first = inputs[..., 1].argmax(axis=1)
    last = 29 - inputs[:, ::-1, 1].argmax(axis=1)
    assert np.all(first < np.maximum(lengths // 10, 1)) and np.all(last >= lengths // 2)
    assert np.allclose(sums, (inputs[..., 0] * inputs[..., 1]).sum(axis=1))


def test_the_text_program_trains_then_continues_the_seed(tmp_path):
    text = tmp_path / "tiny.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. ", encoding="utf-8")
    result = run_example(TEXT, tmp_path, "--text", str(text), "--iterations", "4",
                         "--print-every", "2", "--window", "8", "--batch-size", "16",
                         "--units", "16", "--seed-text", "The lazy", "--length", "30")
    _ok(result)
    costs = _numbers(r"^iteration \d+: cost (\S+)$", result.stdout)
    assert len(costs) == 2 and all(math.isfinite(c) for c in costs), result.stdout
    sample = re.fullmatch(r"(?s).*^----\n(.*)\n----\n", result.stdout, flags=re.M)
    assert sample, result.stdout
    assert sample[1].startswith("The lazy") and len(sample[1]) == len("The lazy") + 30
    assert set(sample[1]) <= set(text.read_text(encoding="utf-8"))


def test_the_text_program_reads_the_shakespeare_file_by_default(tmp_path):
    result = run_example(TEXT, tmp_path, "--iterations", "1", "--units", "8", "--window", "4",
                         "--batch-size", "4", "--length", "5")
    _ok(result)
    assert re.search(r"^----\nROMEO:\nBut soft.{5}\n----$", result.stdout, flags=re.M | re.S)


def test_the_text_program_spells_theano_through_the_compat_shim():
    lines = (EXAMPLES / TEXT).read_text(encoding="utf-8").splitlines()
    assert {"from rnnlab.compat import theano", "import rnnlab.nn as lasagne",
            "T = theano.tensor"} <= set(lines)
    source = "\n".join(lines)
    for call in ("T.nnet.softmax", "T.nnet.categorical_crossentropy(", "theano.shared(",
                 "theano.function(", "lasagne.updates.adagrad(", "lasagne.random.set_rng("):
        assert call in source, call
    addition = (EXAMPLES / ADDITION).read_text(encoding="utf-8").splitlines()
    assert {"import pytensor as theano", "import pytensor.tensor as T",
            "import rnnlab.nn as lasagne"} <= set(addition)
    for program in (lines, addition):
        assert not [line for line in program if re.match(r"(import|from) (theano|lasagne)\b",
                                                         line)]


@pytest.mark.parametrize("name, option", [(ADDITION, ["--epochs", "0"]),
                                          (ADDITION, ["--epoch", "x"]),
                                          (TEXT, ["--units", "0"]),
                                          (TEXT, ["--bogus"])])
def test_a_bad_option_stops_the_program_with_one_error_line(tmp_path, name, option):
    result = run_example(name, tmp_path, *option)
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert errors == [result.stderr.splitlines()[-1]], result.stderr
    assert errors[0].startswith(f"{name}: error: ")
