"""python -m rnnlab.train: every experiment config end to end, exact resume, failures.

Each test runs the command in-process (``main`` through ``run_command``, as ``python -m`` does)
in FAST_COMPILE mode; compiling is the cost, so every test compiles as few models as it can.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnlab.config import TrainConfig
from rnnlab.commands.train import main
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.run.metrics_log import read_metrics
from rnnlab.training.loop import lr_at

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "experiments").glob("*.toml"))


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # configs name data/... relative to the project root


def test_experiment_configs_come_in_pairs_differing_only_in_the_cell():
    import tomllib

    names = {path.stem for path in CONFIGS}
    for stem in ("shakespeare", "airline", "sunspots"):
        elman, lstm = (tomllib.loads((ROOT / "experiments" / f"{stem}_{cell}.toml").read_text())
                       for cell in ("elman", "lstm"))
        assert (elman["model"].pop("cell"), lstm["model"].pop("cell")) == ("elman", "lstm")
        assert elman == lstm
        names -= {f"{stem}_elman", f"{stem}_lstm"}
    assert names == {"smoke_text", "smoke_series"}


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_config_dry_runs_into_a_new_run_directory(path, tmp_path, command):
    import tomllib

    cell = tomllib.loads(path.read_text())["model"]["cell"]
    taken = tmp_path / f"{path.stem}-{cell}-s0"  # the default name is taken: never overwritten
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    code, out, err = command(main, ["--config", path, "--dry-run", f"run.dir={tmp_path}"])
    assert code == 0, err
    assert (taken / "mine.txt").read_text() == "keep" and len(list(taken.iterdir())) == 1
    run = tmp_path / f"{taken.name}-2"
    assert str(run) in out
    expected = {"config.json", "meta.json", "metrics.csv", "summary.json", ".lock",
                "checkpoints/latest.npz", "checkpoints/latest.json", "checkpoints/best.npz",
                "checkpoints/best.json", "plots/loss_vs_step.png", "plots/loss_vs_time.png"}
    kind = json.loads((run / "config.json").read_text())["data"]["kind"]
    if kind == "text":
        expected.add("samples/step_000001.txt")
    assert {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()} == expected
    rows = read_metrics(run / "metrics.csv")
    assert len(rows) == 1 and rows[0]["step"] == 1 and np.isfinite(rows[0]["val_loss"])
    present = {k for k, v in rows[0].items() if v is not None}
    assert present >= ({"bpc", "perplexity"} if kind == "text" else {"rmse", "mae", "mase"})
    assert not present & ({"rmse", "mae", "mase"} if kind == "text" else {"bpc", "perplexity"})
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stop_reason"] == "dry_run" and summary["steps"] == 1
    assert summary["cell"] == cell and summary["best_step"] == 1 and summary["diverged"] is None
    meta = json.loads((run / "meta.json").read_text())
    assert meta["kind"] == kind and meta["n_params"] == summary["n_params"] > 0
    assert ("vocabulary" in meta) == (kind == "text") and ("data" in meta) == (kind == "series")


def _params(run, which="latest"):
    arrays, meta = load_checkpoint(run / "checkpoints" / which)
    return arrays, meta


def test_resume_continues_bitwise_exactly(tmp_path, command, monkeypatch):
    import rnnlab.training.loop

    # Dropout (generator state), an lr decay (schedule), 12 batches per epoch (epoch boundary
    # and state reset at step 12) and an off-grid stop at step 7.
    common = ["--config", ROOT / "experiments" / "smoke_text.toml", "data.max_chars=1000",
              "model.dropout=0.3", "train.lr_decay=0.5", "train.lr_decay_every=4",
              "train.eval_every=4", f"run.dir={tmp_path}", "run.sample_length=10"]
    # The uninterrupted run also does the JIT warm-up of the NUMBA/JAX modes: it leaves no trace.
    warm_ups = []
    warm_up = rnnlab.training.loop._Trainer.warm_up
    with monkeypatch.context() as patch:
        patch.setattr(rnnlab.training.loop, "_compiles_lazily", lambda: True)
        patch.setattr(rnnlab.training.loop._Trainer, "warm_up",
                      lambda self: (warm_ups.append(1), warm_up(self)))
        code, _, err = command(main, common + ["train.max_steps=16", "run.name=straight"])
    assert code == 0 and warm_ups == [1], err
    code, _, err = command(main, common + ["train.max_steps=7", "run.name=stopped"])
    assert code == 0, err
    stopped = tmp_path / "stopped"
    assert _params(stopped)[1]["loop"]["step"] == 7
    code, out, err = command(main, ["--resume", stopped, "train.max_steps=16"])
    assert code == 0, err
    straight_arrays, straight_meta = _params(tmp_path / "straight")
    resumed_arrays, resumed_meta = _params(stopped)
    assert straight_meta["loop"]["step"] == resumed_meta["loop"]["step"] == 16
    position = [(meta["loop"]["epoch"], meta["loop"]["index"]) for meta in (straight_meta,
                                                                           resumed_meta)]
    assert position == [(1, 4), (1, 4)]
    assert set(straight_meta) == {"loop", "lr", "random_state"}  # the counters once, in "loop"
    assert sorted(straight_arrays) == sorted(resumed_arrays)
    assert any(name.startswith("opt/") for name in straight_arrays)
    for name, array in straight_arrays.items():
        assert array.tobytes() == resumed_arrays[name].tobytes(), name
    assert straight_meta["random_state"] == resumed_meta["random_state"] != []
    # The metrics rows on the eval grid match (the extra row at the stop, step 7, is additional).
    rows = {int(r["step"]): r for r in read_metrics(tmp_path / "straight" / "metrics.csv")}
    again = {int(r["step"]): r for r in read_metrics(stopped / "metrics.csv")}
    assert sorted(rows) == [4, 8, 12, 16] and sorted(again) == [4, 7, 8, 12, 16]
    for step, row in rows.items():
        assert {k: v for k, v in row.items() if k != "wall_time"} == \
            {k: v for k, v in again[step].items() if k != "wall_time"}
    assert rows[16]["lr"] == pytest.approx(lr_at(TrainConfig(lr=0.01, lr_decay=0.5,
                                                             lr_decay_every=4), 15))
    for step in (4, 8, 12, 16):
        name = f"samples/step_{step:06d}.txt"
        assert (stopped / name).read_text() == (tmp_path / "straight" / name).read_text()
    assert json.loads((stopped / "summary.json").read_text())["steps"] == 16


@pytest.mark.parametrize("settings", [["train.lr=1e6"],
                                      ["train.optimizer=sgd", "train.lr=1e12",
                                       "train.max_grad_norm=0"]], ids=["adam-1e6", "sgd-1e12"])
def test_an_absurd_learning_rate_stops_the_run_keeping_the_last_good_checkpoint(settings,
                                                                               tmp_path, command):
    code, out, err = command(main, ["--config", ROOT / "experiments" / "smoke_series.toml",
                                    *settings, "train.eval_every=2", f"run.dir={tmp_path}",
                                    "run.name=boom"])
    run = tmp_path / "boom"
    summary = json.loads((run / "summary.json").read_text())
    diverged = summary["diverged"]
    assert code == 1 and summary["stop_reason"] == "diverged" and summary["retries"] == 0
    line, = err.strip().splitlines()
    # What happened, at which step, the gradient norm and the last good checkpoint.
    assert line.startswith(f"stopped at step {diverged['step']}: {diverged['reason']} "
                           f"(gradient norm {diverged['grad_norm']:.4g}, learning rate ")
    assert diverged["reason"].startswith(("the training loss", "the gradient norm"))
    assert line.endswith(f"the last good checkpoint is {run / 'checkpoints' / 'latest'} (step "
                         f"{diverged['last_good_step']})")
    arrays, meta = _params(run)
    assert meta["loop"]["step"] == diverged["last_good_step"] < diverged["step"]
    assert all(np.isfinite(a).all() for a in arrays.values())


@pytest.mark.parametrize("argv, message", [
    (["model.cel=lstm"], "unknown key 'model.cel' (did you mean 'model.cell'?)"),
    (["train.lr=fast"], "train.lr = 'fast': expected a number"),
    (["data.path=data/shakespear.txt"], "file not found"),
    (["data.seq_len=5000"], "too few"),
    (["model.layers=4"], "model.layers = 4: expected an integer from 1 to 3"),
    (["--device", "gpu"], "device 'gpu'"),
    (["--resume", "{runs}/nothing"], "nothing: no such run directory"),
])
def test_bad_configs_fail_with_one_line_and_write_nothing(argv, message, tmp_path, command):
    runs = tmp_path / "runs"
    argv = [a.format(runs=runs) for a in argv]
    if argv[0] != "--resume":
        argv = ["--config", ROOT / "experiments" / "smoke_text.toml", f"run.dir={runs}"] + argv
    code, out, err = command(main, argv)
    assert code == 2 and out == ""
    line, = err.splitlines()
    assert line.startswith("error: ") and message in line
    assert not runs.exists()


def test_resume_refuses_to_change_what_a_step_computes(tmp_path, command):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    code, _, err = command(main, ["--resume", run, "model.hidden=32"])
    assert code == 2 and "model.hidden cannot change when resuming" in err
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]


def test_help_shows_examples_and_every_config_key(command):
    code, out, _ = command(main, ["--help"])
    assert code == 0
    assert "examples:" in out and "--resume RUN_DIR" in out and "--dry-run" in out
    for line in ("[model]", 'cell = "lstm"', "time_budget = 0.0", "[device]",
                 'on_divergence = "stop"', "max_retries = 3"):
        assert line in out


def test_the_command_process_compiles_into_rnnlabs_cache(tmp_path):
    """Importing the command prepares the process before its modules import PyTensor and Numba."""
    code = ("import json, os, rnnlab.train, pytensor; print(json.dumps(["
            "str(pytensor.config.base_compiledir), os.environ['NUMBA_CACHE_DIR'], "
            "pytensor.config.mode, pytensor.config.floatX]))")
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTENSOR_FLAGS", "NUMBA_CACHE_DIR")}
    env.update(RNNLAB_CACHE_DIR=str(tmp_path / "cache"), RNNLAB_MODE="CVM",
               RNNLAB_FLOATX="float64")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env=env, check=True)
    assert json.loads(result.stdout) == [str(tmp_path / "cache"),
                                         str(tmp_path / "cache" / "rnnlab-kernels"), "CVM",
                                         "float64"]
