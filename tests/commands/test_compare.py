"""Tests for python -m rnnlab.compare: the report on hand-written runs, bad input, and tiny grids
trained end to end through joblib and through a real dask.distributed cluster on loopback."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rnnlab import config
from rnnlab.commands.cli import run_command
from rnnlab.commands.compare import main
from rnnlab.files import write_json
from rnnlab.run.metrics_log import METRIC_COLUMNS, MetricsLog

ROOT = Path(__file__).resolve().parents[2]
SMOKE_TEXT = str(ROOT / "experiments" / "smoke_text.toml")
SMOKE_SERIES = str(ROOT / "experiments" / "smoke_series.toml")
FAST = ["train.max_steps=4", "train.eval_every=2"]


def _fake_run(root, name, cell, seed, val, test, kind="text", forecast=None):
    """A finished run directory written by hand: config, metrics, summary (and forecast)."""
    run = Path(root) / name
    run.mkdir(parents=True)
    overrides = [f"model.cell={cell}", f"train.seed={seed}", f"data.kind={kind}"]
    overrides += ["data.target=y"] if kind == "series" else []
    cfg = config.load(None, overrides, check_files=False)
    config.save_resolved(cfg, run / "config.json")
    log = MetricsLog(run / "metrics.csv", METRIC_COLUMNS)
    log.append({"step": 5, "wall_time": 0.5, "val_loss": val + 1.0})
    log.append({"step": 10, "wall_time": 1.0 + seed, "val_loss": val})
    test_metrics = ({"loss": test, "bpc": test / math.log(2)} if kind == "text" else
                    {"loss": test, "rmse": 10 * test, "mae": 8 * test, "mase": test / 2})
    best = {"val_loss": val, "bpc": val / math.log(2)} if kind == "text" else {"val_loss": val}
    write_json(run / "summary.json", {"stop_reason": "max_steps", "steps": 10,
                                      "wall_time": 1.0 + seed, "n_params": len(cell) * 100,
                                      "best": best, "test": test_metrics,
                                      "throughput": {"chars_per_s": 1000.0 * (seed + 1)},
                                      "load": {"start": {"load_1min": 0.5, "cpus": 2},
                                               "end": {"load_1min": 1.0 + seed, "cpus": 2}}})
    if forecast is not None:
        write_json(run / "forecast" / "forecast.json", {"backtest": forecast})
    return run


VALUES = {"elman": ([2.0, 2.5, 2.25], [2.1, 2.6, 2.2]), "lstm": ([1.5, 1.25, 1.0], [1.6, 1.2, 1.1])}


def test_report_on_finished_runs_mean_and_std(tmp_path, capsys):
    runs = [_fake_run(tmp_path / "runs", f"{cell}-s{seed}", cell, seed, val, test)
            for cell, (vals, tests) in VALUES.items()
            for seed, (val, test) in enumerate(zip(vals, tests))]
    argv = [str(r) for r in runs] + ["--no-gradients"]
    assert main(argv) == 0
    out = tmp_path / "runs" / "compare"
    report = json.loads((out / "report.json").read_text())
    assert [g["label"] for g in report["groups"]] == ["model.cell=elman", "model.cell=lstm"]
    markdown = (out / "report.md").read_text()
    for group, (vals, tests) in zip(report["groups"], VALUES.values()):
        assert group["seeds"] == [0, 1, 2]
        for name, values in (("val_loss", vals), ("test_loss", tests),
                             ("val_bpc", np.array(vals) / math.log(2)),
                             ("test_bpc", np.array(tests) / math.log(2)),
                             ("wall_time", [1.0, 2.0, 3.0]), ("chars_per_s", [1e3, 2e3, 3e3]),
                             ("load_end", [1.0, 2.0, 3.0])):
            stats = group["metrics"][name]
            assert stats["n"] == 3
            assert stats["mean"] == pytest.approx(np.mean(values))
            assert stats["std"] == pytest.approx(np.std(values, ddof=1))
        # The tables read in bits/char; the nats stay in report.json only.
        row = next(line for line in markdown.splitlines()
                   if line.startswith(f"| {group['label']} |"))
        for name in ("val_bpc", "test_bpc", "chars_per_s", "load_end"):
            stats = group["metrics"][name]
            assert f"| {stats['mean']:.4g} ± {stats['std']:.2g} |" in row, (name, row)
        val = group["metrics"]["val_loss"]
        assert f"{val['mean']:.4g} ± {val['std']:.2g}" not in markdown
    assert "| lstm-s2 | model.cell=lstm | 2 | max_steps | 10 | 3000 | 0.5 → 3 |" in markdown
    assert "bits per character" in markdown and "on 2 CPUs" in markdown
    assert report["groups"][1]["metrics"]["n_params"] == {"mean": 400.0, "std": 0.0, "n": 3,
                                                          "values": [400.0] * 3}
    for name in ("val_loss_vs_step.png", "val_loss_vs_time.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
        assert f"]({name})" in markdown
    assert "gradients_vs_lag.png" not in markdown
    # Never overwrite: a second report goes next to the first.
    assert main(argv) == 0
    assert (tmp_path / "runs" / "compare-2" / "report.md").is_file()
    assert "report: " in capsys.readouterr().out


def test_series_report_puts_the_baselines_beside(tmp_path):
    def backtest(rnn):
        return {"origins": 5, "rnn": {"rmse": rnn, "mae": rnn, "mase": rnn / 10},
                "naive": {"rmse": 30.0, "mae": 25.0, "mase": 3.0},
                "seasonal_naive": {"rmse": 20.0, "mae": 15.0, "mase": 1.5},
                "drift": {"rmse": 25.0, "mae": 20.0, "mase": 2.0},
                "seasonal_naive_drift": {"rmse": 10.0, "mae": 8.0, "mase": 0.8}}
    runs = [_fake_run(tmp_path, "elman-s0", "elman", 0, 1.0, 1.2, "series", backtest(12.0)),
            _fake_run(tmp_path, "lstm-s0", "lstm", 0, 0.8, 0.9, "series", backtest(8.0)),
            _fake_run(tmp_path, "lstm-s1", "lstm", 1, 0.6, 0.7, "series", backtest(6.0))]
    out = tmp_path / "report"
    assert main([str(r) for r in runs] + ["--out", str(out), "--no-gradients"]) == 0
    groups = json.loads((out / "report.json").read_text())["groups"]
    assert groups[0]["metrics"]["test_mase"] == {"mean": 0.6, "std": None, "n": 1,
                                                 "values": [0.6]}
    lstm = groups[1]["baselines"]
    assert lstm["rnn_rmse"]["mean"] == 7.0 and lstm["seasonal_naive_mase"]["mean"] == 1.5
    assert lstm["rnn_rmse"]["std"] == pytest.approx(np.std([8.0, 6.0], ddof=1))
    assert lstm["seasonal_naive_drift_mase"]["mean"] == 0.8 and lstm["drift_rmse"]["n"] == 2
    markdown = (out / "report.md").read_text()
    assert "seasonal naive MASE" in markdown and "| model.cell=elman | 1 | 1 |" in markdown
    assert "seasonal naive + drift MASE" in markdown and "test RMSE (pooled)" in markdown


@pytest.mark.parametrize("argv, message", [
    ([], "nothing to compare"),
    (["no/such/run"], "no/such/run: no such run directory"),
    (["model.cell=lstm"], "looks like an override"),
    (["--vary", "model.cell=elman,lstm"], "need --config"),
    (["--config", "missing.toml"], "missing.toml"),
    (["--config", SMOKE_TEXT, "--vary", "model.cel=elman,lstm"], "did you mean 'model.cell'"),
    (["--config", SMOKE_TEXT, "--vary", "model.hidden=8,big"], "model.hidden = 'big'"),
    (["--config", SMOKE_TEXT, "--vary", "train.seed=1,2"], "cannot be varied"),
    (["--config", SMOKE_TEXT, "--vary", "model.cell=elman,rnn"], "model.cell"),
    (["--config", SMOKE_TEXT, "--seeds", "0"], "--seeds 0"),
    (["--config", SMOKE_TEXT, "--jobs", "0"], "--jobs 0"),
    (["--config", SMOKE_TEXT, "data.path=nowhere.txt"], "nowhere.txt"),
    (["--config", SMOKE_TEXT, "--dask-scheduler", "nonsense::"], "cannot connect"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        run_command(main, argv + ["--out", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err
    assert not out.exists()


def test_existing_out_is_refused(tmp_path, capsys):
    run = _fake_run(tmp_path, "lstm-s0", "lstm", 0, 1.0, 1.0)
    with pytest.raises(SystemExit) as info:
        run_command(main, [str(run), "--out", str(tmp_path)])
    assert info.value.code == 2 and "never overwrites" in capsys.readouterr().err


def test_joblib_grid_end_to_end_then_gradients_of_the_trained_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "grid"
    argv = ["--config", SMOKE_TEXT, "--vary", "model.cell=elman,lstm", "--jobs", "2",
            "--out", str(out)] + FAST
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert [g["label"] for g in report["groups"]] == ["model.cell=elman", "model.cell=lstm"]
    runs = [Path(r["path"]) for r in report["runs"]]
    assert [r.name for r in runs] == ["cell-elman_s0", "cell-lstm_s0"]
    for run, cell in zip(runs, ("elman", "lstm")):
        summary = json.loads((run / "summary.json").read_text())
        assert summary["cell"] == cell and summary["steps"] == 4
        assert (out / "logs" / f"{run.name}.log").read_text().startswith("$ python -m rnnlab.")
    for group in report["groups"]:
        assert group["metrics"]["steps"]["mean"] == 4 and group["metrics"]["test_bpc"]["n"] == 1
    # Fresh networks of each cell type: lag 0 carries the unit gradient, then it decays.
    curves = report["gradients"]["norms_by_lag"]
    assert sorted(curves) == ["elman", "lstm"]
    for norms in curves.values():
        assert len(norms) == 16 and norms[0] == pytest.approx(1.0, rel=1e-5)
        assert norms[-1] < norms[0]
    assert (out / "gradients_vs_lag.png").read_bytes().startswith(b"\x89PNG")

    trained = tmp_path / "trained"
    assert main([str(r) for r in runs] + ["--gradients", "--out", str(trained)]) == 0
    again = json.loads((trained / "report.json").read_text())
    assert again["gradients"]["mode"] == "trained"
    assert again["groups"] == report["groups"]              # same runs, same numbers
    for norms in again["gradients"]["norms_by_lag"].values():
        assert len(norms) == 16 and all(n > 0 for n in norms)


def test_dask_grid_end_to_end_on_a_local_cluster(tmp_path, monkeypatch):
    import distributed
    monkeypatch.chdir(ROOT)
    out = tmp_path / "grid"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        argv = ["--config", SMOKE_SERIES, "--vary", "model.cell=elman,lstm", "--no-gradients",
                "--dask-scheduler", cluster.scheduler_address, "--out", str(out)] + FAST
        assert main(argv) == 0
        assert "run_job" in cluster.scheduler.task_prefixes      # the cluster ran the runs
    report = json.loads((out / "report.json").read_text())
    assert [g["label"] for g in report["groups"]] == ["model.cell=elman", "model.cell=lstm"]
    for group in report["groups"]:
        assert group["metrics"]["test_mase"]["n"] == 1
        baselines = group["baselines"]
        assert baselines["seasonal_naive_mase"]["mean"] > 0
        assert baselines["rnn_mase"]["n"] == 1
    for run in report["runs"]:
        assert (Path(run["path"]) / "forecast" / "forecast.json").is_file()
    markdown = (out / "report.md").read_text()
    assert "Against the baselines" in markdown and "## Prediction intervals" in markdown
    for group in report["groups"]:
        assert set(group["coverage"]) == {"80", "95"}
        assert 0 <= group["coverage"]["95"]["mean"] <= 100
