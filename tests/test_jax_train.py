"""The JAX backend trains every shipped experiment, with NUMBA's losses.

``device.mode=JAX`` on the CPU is what ``--device gpu`` runs on a GPU: the same graphs, the ops'
JAX translations, every function compiled per input shape.  JAX is an optional test dependency
(``pip install -r requirements-jax.txt``); CI installs it.  Each run is a fresh process, as the
command is run, since the compile mode is process-wide.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is not installed (pip install -r requirements-jax.txt)")

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "experiments").glob("*.toml"))
SMALL = ["train.max_steps=3", "train.eval_every=2", "train.time_budget=0", "model.hidden=4",
         "data.max_chars=20000", "train.batch_size=4", "data.seq_len=8", "train.eval_batches=1",
         "run.sample_length=10", "run.progress=false"]


def train(*argv, cwd=ROOT):
    done = subprocess.run([sys.executable, "-m", "rnnlab.train", *map(str, argv)], cwd=cwd,
                          env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def losses(run):
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r["train_loss"]), float(r["val_loss"])] for r in rows])


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_shipped_config_trains_under_jax(path, tmp_path):
    out = train("--config", path, "device.mode=JAX", *SMALL, f"run.dir={tmp_path}")
    assert "done: max_steps after 3 steps" in out
    (run,) = tmp_path.iterdir()
    assert np.isfinite(losses(run)).all() and len(losses(run)) == 2


@pytest.mark.parametrize("name", ["smoke_text", "smoke_series"])
def test_jax_losses_equal_numbas_over_the_first_20_steps(name, tmp_path):
    runs = {}
    for mode in ("NUMBA", "JAX"):
        train("--config", ROOT / "experiments" / f"{name}.toml", f"device.mode={mode}",
              "train.max_steps=20", "train.eval_every=1", "train.time_budget=0",
              "run.progress=false", f"run.dir={tmp_path / mode}")
        (runs[mode],) = (tmp_path / mode).iterdir()
    numba, jax = losses(runs["NUMBA"]), losses(runs["JAX"])
    assert numba.shape == jax.shape == (20, 2)
    np.testing.assert_allclose(jax, numba, rtol=2e-5)          # float32 rounding, 20 Adam steps
    assert not np.array_equal(numba[0], numba[-1])              # it trained
