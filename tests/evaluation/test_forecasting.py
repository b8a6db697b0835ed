"""rnnlab.forecast: test-split forecasts, baselines and the rolling-origin backtest.

The unit tests drive :func:`forecast_run` with stand-in "networks" (plain numpy functions) over a
real :class:`~rnnlab.datasets.timeseries.Prepared`, so every number can be checked against
rnnlab.evaluation.baselines and rnnlab.evaluation.metrics computed by hand here.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rnnlab.config import Config
from rnnlab.commands.forecast import main
from rnnlab.datasets.timeseries import Series, prepare
from rnnlab.errors import DataError, RnnlabError
from rnnlab.evaluation import baselines, metrics
from rnnlab.evaluation.forecasting import (METRICS, MODELS, _backtest_origins, _tile_origins,
                                           backtest, forecast_future, forecast_run,
                                           format_report, score)

SEASON, LOOKBACK, HORIZON = 4, 8, 3


def _series(n=70, dates=True):
    t = np.arange(n)
    rng = np.random.default_rng(0)
    values = 50 + 0.5 * t + 8 * np.sin(2 * np.pi * t / SEASON) + rng.normal(0, 1, n)
    when = np.datetime64("2000-01") + np.arange(n).astype("m8[M]") if dates else None
    return Series(values, ("y",), dates=when, source="hand.csv")


def _session(data, predict, strategy="direct", horizon=HORIZON, run_dir=None):
    cfg = Config().replace(data={"horizon": horizon, "season": SEASON, "strategy": strategy},
                           model={"cell": "lstm"})
    return SimpleNamespace(cfg=cfg, task=SimpleNamespace(kind="series", prepared=data,
                                                         season=SEASON),
                           functions=SimpleNamespace(predict=predict), run_dir=run_dir)


def _seasonal_predict(horizon):
    """Seasonal naive in the scaled space: affine scaling makes it seasonal naive in raw units."""
    def predict(x):
        rows = x.shape[1] - SEASON + np.arange(horizon) % SEASON
        return [x[:, rows, :1].astype(np.float32)]
    return predict


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_score_matches_rnnlab_metrics_and_marks_undefined():
    actual = np.array([[3.0], [5.0], [4.0]])
    forecast = np.array([[2.5], [6.0], [4.0]])
    train = np.array([[1.0], [2.0], [4.0], [3.0], [5.0]])
    got = score(actual, forecast, train, season=2)
    assert got == {"mae": metrics.mae(actual, forecast), "rmse": metrics.rmse(actual, forecast),
                   "mape": metrics.mape(actual, forecast),
                   "smape": metrics.smape(actual, forecast),
                   "mase": metrics.mase(actual, forecast, train, m=2)}
    flat = score(np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]]), np.ones((5, 1)), 1)
    assert flat["mape"] is None and flat["mase"] is None and flat["mae"] == 0.5


def test_origins_tile_the_test_part_and_the_backtest_steps_through_it():
    origins, steps = _tile_origins(20, 31, 4)
    covered = np.concatenate([o + np.arange(s) for o, s in zip(origins, steps)])
    np.testing.assert_array_equal(covered, np.arange(20, 31))  # every row exactly once
    np.testing.assert_array_equal(_backtest_origins(20, 31, 4), np.arange(20, 28))
    with pytest.raises(DataError, match="fewer than data.horizon = 4"):
        _backtest_origins(20, 23, 4)


def test_backtest_covers_every_origin_once_and_averages_hand_scores():
    y = _series(40).targets
    origins = _backtest_origins(30, 40, HORIZON)
    calls = []

    def naive(o, steps):
        calls.append((o.copy(), steps))
        return np.stack([baselines.naive(y[:t], steps) for t in o])

    rows, means, forecasts = backtest({"naive": naive}, y, origins, HORIZON, y[:20], SEASON)
    np.testing.assert_array_equal(forecasts["naive"], np.stack(
        [baselines.naive(y[:t], HORIZON) for t in origins]))
    assert [row["origin"] for row in rows] == list(range(30, 38))
    assert len(calls) == 1 and calls[0][1] == HORIZON
    np.testing.assert_array_equal(calls[0][0], origins)
    by_hand = [metrics.mase(y[t:t + HORIZON], baselines.naive(y[:t], HORIZON), y[:20], SEASON)
               for t in origins]
    assert [row["naive_mase"] for row in rows] == pytest.approx(by_hand)
    assert means["naive"]["mase"] == pytest.approx(np.mean(by_hand))
    assert set(means["naive"]) == set(METRICS)


def test_forecast_run_baselines_match_metrics_on_a_hand_series(tmp_path):
    series = _series()
    data = prepare(series, LOOKBACK, HORIZON, val=0.15, test=0.2)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "user.txt").write_text("keep me")
    result = forecast_run(_session(data, _seasonal_predict(HORIZON), run_dir=run_dir))

    out = run_dir / "forecast"
    assert sorted(p.name for p in out.iterdir()) == ["backtest.csv", "forecast.csv",
                                                     "forecast.json", "forecast.png"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["forecast", "user.txt"]
    assert (run_dir / "user.txt").read_text() == "keep me"
    assert json.loads((out / "forecast.json").read_text()) == json.loads(json.dumps(result))
    assert (out / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    y, start, n = series.targets, data.split.test_start, len(series)
    train = y[:data.split.val_start]
    origins, steps = _tile_origins(start, n, HORIZON)
    by_hand = {"naive": lambda h, s: baselines.naive(h, s),
               "seasonal_naive": lambda h, s: baselines.seasonal_naive(h, s, SEASON),
               "drift": lambda h, s: baselines.drift(h, s),
               "seasonal_naive_drift": lambda h, s: baselines.seasonal_naive_drift(h, s, SEASON)}
    assert list(by_hand) == list(MODELS[1:])
    tiled = {name: np.concatenate([f(y[:t], s) for t, s in zip(origins, steps)])
             for name, f in by_hand.items()}
    snaive = tiled["seasonal_naive"]
    actual = y[start:]
    for name, forecast in tiled.items():
        assert result["test"][name] == pytest.approx({
            "mae": metrics.mae(actual, forecast), "rmse": metrics.rmse(actual, forecast),
            "mape": metrics.mape(actual, forecast), "smape": metrics.smape(actual, forecast),
            "mase": metrics.mase(actual, forecast, train, m=SEASON)})
    # The stand-in network is seasonal naive in scaled units, so it equals the baseline in raw.
    assert result["test"]["rnn"] == pytest.approx(result["test"]["seasonal_naive"])
    assert result["backtest"]["rnn"] == pytest.approx(result["backtest"]["seasonal_naive"])
    assert result["test_rows"] == n - start and result["backtest"]["origins"] == n - start - 2

    rows = _read_csv(out / "forecast.csv")
    assert list(rows[0]) == ["date", "step", "actual", "rnn", "naive", "seasonal_naive", "drift",
                             "seasonal_naive_drift", "rnn_lower_80", "rnn_upper_80",
                             "rnn_lower_95", "rnn_upper_95"]
    np.testing.assert_allclose([float(r["seasonal_naive_drift"]) for r in rows],
                               tiled["seasonal_naive_drift"][:, 0])
    assert [row["date"] for row in rows] == list(
        np.datetime_as_string(series.dates[start:], unit="auto"))
    np.testing.assert_allclose([float(r["actual"]) for r in rows], actual[:, 0])
    np.testing.assert_allclose([float(r["seasonal_naive"]) for r in rows], snaive[:, 0])
    assert [int(r["step"]) for r in rows] == [1, 2, 3] * (len(rows) // 3) + \
        [1, 2, 3][:len(rows) % 3]

    back = _read_csv(out / "backtest.csv")
    assert [r["origin"] for r in back] == list(
        np.datetime_as_string(series.dates[start:n - HORIZON + 1], unit="auto"))
    assert np.mean([float(r["naive_mae"]) for r in back]) == pytest.approx(
        result["backtest"]["naive"]["mae"])
    text = format_report(result)
    assert all(name in text for name in MODELS) and "MASE" in text
    assert "pooled over its" in text and "mean over" in text and " %" in text
    # the MASE scale is the training part's mean absolute seasonal change
    assert result["mase_scale"] == pytest.approx(
        [np.mean(np.abs(train[SEASON:] - train[:-SEASON]))])

    # intervals: calibrated on the validation origins only, radii never shrink along the horizon
    record = result["intervals"]
    assert record["calibration_errors"] == [data.split.test_start - data.split.val_start - j
                                            for j in range(HORIZON)]
    for label, level in record["levels"].items():
        radius = np.array(level["radius"])[:, 0]
        assert radius.shape == (HORIZON,) and np.all(np.diff(radius) >= 0)
        lower = np.array([float(r[f"rnn_lower_{label}"]) for r in rows])
        upper = np.array([float(r[f"rnn_upper_{label}"]) for r in rows])
        rnn = np.array([float(r["rnn"]) for r in rows])
        step = np.array([int(r["step"]) for r in rows])
        np.testing.assert_allclose(upper - rnn, radius[step - 1])
        np.testing.assert_allclose(rnn - lower, radius[step - 1])
        assert level["coverage_test"] == pytest.approx(np.mean((lower <= actual[:, 0])
                                                               & (actual[:, 0] <= upper)))
    assert np.all(np.array(record["levels"]["95"]["radius"])
                  >= np.array(record["levels"]["80"]["radius"]))


def test_network_sees_the_test_windows_and_recursive_matches_naive(tmp_path):
    data = prepare(_series(dates=False), LOOKBACK, 1, val=0.15, test=0.2,
                   transforms=["diff"], scaler="minmax")
    seen = []

    def last_value(x):  # one-step "network": repeat the newest scaled difference
        seen.append(x)
        return [x[:, -1:, :1]]

    result = forecast_run(_session(data, last_value, strategy="recursive", horizon=1),
                          out_dir=tmp_path / "out")
    # The first call is the backtest's: one window per test origin, equal to Prepared's.
    np.testing.assert_array_equal(seen[0], data.test.x)
    rows = _read_csv(tmp_path / "out" / "forecast.csv")
    assert list(rows[0])[:2] == ["index", "step"] and int(rows[0]["index"]) == \
        data.split.test_start
    assert result["strategy"] == "recursive" and result["backtest"]["origins"] == len(data.test.t)

    # With horizon 3 the recursive forecast feeds its own guesses back, so repeating the last
    # scaled value stays the naive forecast in raw units at every step.
    data3 = prepare(_series(dates=False), LOOKBACK, 1, val=0.15, test=0.2)
    result3 = forecast_run(_session(data3, lambda x: [x[:, -1:, :1]], strategy="recursive",
                                    horizon=3), out_dir=tmp_path / "out3")
    y, start = data3.series.targets, data3.split.test_start
    assert result3["test"]["rnn"] == pytest.approx(result3["test"]["naive"])
    assert result3["backtest"]["origins"] == len(y) - start - 2


def test_forecast_run_rejects_text_runs_and_short_tests(tmp_path):
    with pytest.raises(DataError, match="forecast needs a series run"):
        forecast_run(SimpleNamespace(task=SimpleNamespace(kind="text")), tmp_path)
    data = prepare(_series(40), LOOKBACK, HORIZON, val=0.15, test=0.1)
    session = _session(data, _seasonal_predict(HORIZON), horizon=5)
    with pytest.raises(DataError, match="fewer than data.horizon = 5"):
        forecast_run(session, tmp_path / "short")
    assert not (tmp_path / "short").exists()
    with pytest.raises(ValueError, match="out_dir"):
        forecast_run(_session(data, _seasonal_predict(HORIZON)))
    (tmp_path / "file").write_text("user data")
    with pytest.raises(RnnlabError, match="is not a folder"):
        forecast_run(_session(data, _seasonal_predict(HORIZON)), tmp_path / "file")
    assert (tmp_path / "file").read_text() == "user data"


def test_recursive_backtest_of_a_compiled_network_agrees_with_the_task_evaluation(tmp_path):
    from rnnlab import config
    from rnnlab.training.session import build_session

    path = tmp_path / "s.csv"
    t = np.arange(80)
    path.write_text("t,y,x\n" + "".join(f"{i},{20 + i % 6 + 0.1 * i},{np.sin(i)}\n" for i in t))
    cfg = config.load(None, ["data.kind=series", f"data.path={path}", "data.target=y",
                             "data.covariates=x", "data.lookback=6", "data.horizon=4",
                             "data.season=6", "data.strategy=recursive",
                             "data.transform=diff", "model.hidden=3", "model.cell=gru",
                             "data.val_fraction=0.15", "data.test_fraction=0.2"])
    session = build_session(cfg)
    result = forecast_run(session, tmp_path / "out")
    evaluated = session.task.evaluate(session.functions, split="test")
    # Backtest origins are the task's test windows (stride 1), so the mean MAE is the same.
    assert result["backtest"]["origins"] == len(session.task.prepared.test.t)
    assert result["backtest"]["rnn"]["mae"] == pytest.approx(evaluated["mae"], rel=1e-6)
    assert np.isfinite(result["test"]["rnn"]["mase"])


# --- the command, end to end on a run trained by rnnlab.train -------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    from rnnlab import config
    from rnnlab.training import train

    root = tmp_path_factory.mktemp("runs")
    cfg = config.load(ROOT / "experiments" / "smoke_series.toml",
                      [f"data.path={ROOT / 'data' / 'airline_passengers.csv'}",
                       f"run.dir={root}", "train.max_steps=4", "train.eval_every=2"])
    return Path(train(cfg, out=lambda line: None)["run_dir"])


def test_forecast_command_on_a_trained_run(series_run, tmp_path, command):
    before = sorted(series_run.rglob("*"))
    out_dir = tmp_path / "report"
    code, out, err = command(main, [series_run, "--out", out_dir])
    assert code == 0 and err == ""
    assert "test forecast" in out and "rolling-origin backtest" in out and "seasonal_naive" in out
    assert sorted(series_run.rglob("*")) == before  # nothing written into the run itself
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "backtest.csv", "forecast.csv", "forecast.json", "forecast.png"]
    result = json.loads((out_dir / "forecast.json").read_text())
    summary = json.loads((series_run / "summary.json").read_text())
    # The backtest's origins are the test windows train.py scored under the best checkpoint.
    assert result["backtest"]["rnn"]["mae"] == pytest.approx(summary["test"]["mae"], rel=1e-6)
    assert result["season"] == 12 and result["test_rows"] == 29
    rows = _read_csv(out_dir / "forecast.csv")
    assert rows[0]["date"] == result["test_start"] and len(rows) == 29


@pytest.mark.parametrize("argv, message", [
    (["{text}"], "forecast needs a series run"),
    (["{empty}"], "no 'best' checkpoint"),
    (["{missing}"], "no such run directory"),
    (["{run}", "--checkpoint", "first"], "invalid choice"),
])
def test_forecast_command_bad_input_exits_2_with_one_line(series_run, tmp_path, command, argv,
                                                          message):
    text, empty = tmp_path / "text", tmp_path / "empty"
    text.mkdir()
    (text / "config.json").write_text(json.dumps({"data": {"kind": "text"}}))
    empty.mkdir()
    (empty / "config.json").write_text((series_run / "config.json").read_text())
    paths = {"run": series_run, "text": text, "empty": empty, "missing": tmp_path / "none"}
    code, out, err = command(main, [a.format(**paths) for a in argv])
    assert code == 2 and out == ""
    line, = err.splitlines()
    assert message in line and line.startswith("error: ")


def test_python_dash_m_forecast_reports_one_line(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"data": {"kind": "text"}}))
    done = subprocess.run([sys.executable, "-m", "rnnlab.forecast", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {tmp_path}: forecast needs a series run")


# --- the future: past the end of the data ------------------------------------------------------

def test_forecast_future_dates_shapes_baselines_and_block_iteration():
    series = _series()
    data = prepare(series, LOOKBACK, HORIZON, val=0.2, test=0.2)
    steps = 3 * HORIZON + 1                      # past the network's horizon: blocks fed back
    frame = forecast_future(_session(data, _seasonal_predict(HORIZON)), steps)
    n, y = len(series), series.targets
    expected = np.datetime64("2000-01") + np.arange(n, n + steps).astype("m8[M]")
    np.testing.assert_array_equal(frame.index.to_numpy("datetime64[M]"), expected)
    assert frame.index.name == "date" and list(frame["step"]) == list(range(1, steps + 1))
    # the stand-in network is seasonal naive, block after block, so it stays seasonal naive
    np.testing.assert_allclose(frame["rnn"], baselines.seasonal_naive(y, steps, SEASON)[:, 0])
    np.testing.assert_allclose(frame["drift"], baselines.drift(y, steps)[:, 0])
    np.testing.assert_allclose(frame["seasonal_naive_drift"],
                               baselines.seasonal_naive_drift(y, steps, SEASON)[:, 0])
    record = frame.attrs["intervals"]
    assert set(record["levels"]) == {"80", "95"} and frame.attrs["last_observed"] == \
        str(np.datetime64(series.dates[-1], "D"))
    for label in ("80", "95"):
        width = frame[f"rnn_upper_{label}"] - frame[f"rnn_lower_{label}"]
        assert np.all(np.diff(width) >= 0) and np.all(width > 0)
        assert 0.0 <= record["levels"][label]["coverage_test"] <= 1.0
    # calibration errors: every held-out origin whose outcome lies inside the data
    held_out = n - data.split.val_start
    assert record["calibration_errors"] == [held_out - j for j in range(steps)]


def test_forecast_future_needs_covariates_only_past_the_horizon_and_a_calendar():
    values = np.column_stack([np.arange(60.0), np.sin(np.arange(60.0))])
    data = prepare(Series(values, ("y", "x")), LOOKBACK, HORIZON, val=0.2, test=0.2)
    session = _session(data, lambda x: [x[:, -HORIZON:, :1]])
    assert len(forecast_future(session, HORIZON)) == HORIZON  # direct: the past window suffices
    with pytest.raises(DataError, match="covariates .x. that the data does not have"):
        forecast_future(session, HORIZON + 1)
    odd = np.datetime64("2000-01-01") + np.cumsum(np.arange(1, 61)).astype("m8[D]")
    data = prepare(Series(np.arange(60.0), ("y",), dates=odd, source="odd.csv"), LOOKBACK,
                   HORIZON, val=0.2, test=0.2)
    with pytest.raises(DataError, match="odd.csv: cannot tell the step between the dates"):
        forecast_future(_session(data, _seasonal_predict(HORIZON)), 2)


def test_forecast_future_command_on_the_airline_run(series_run, tmp_path, command):
    out_dir = tmp_path / "future"
    code, out, err = command(main, [series_run, "--future", "24", "--out", out_dir])
    assert code == 0 and err == "", err
    assert sorted(p.name for p in out_dir.iterdir()) == ["future.csv", "future.json",
                                                         "future.png"]
    rows = _read_csv(out_dir / "future.csv")
    assert [r["date"] for r in rows] == [f"{1961 + i // 12}-{1 + i % 12:02d}-01"
                                         for i in range(24)]
    assert list(rows[0]) == ["date", "step", "rnn", "rnn_lower_80", "rnn_upper_80",
                             "rnn_lower_95", "rnn_upper_95", "naive", "seasonal_naive", "drift",
                             "seasonal_naive_drift"]
    for label in ("80", "95"):
        width = np.array([float(r[f"rnn_upper_{label}"]) - float(r[f"rnn_lower_{label}"])
                          for r in rows])
        assert np.all(np.diff(width) >= -1e-9 * width.max()) and width[-1] > width[0]  # widen
    inner = np.array([[float(r[k]) for k in ("rnn_lower_80", "rnn_upper_80")] for r in rows])
    outer = np.array([[float(r[k]) for k in ("rnn_lower_95", "rnn_upper_95")] for r in rows])
    assert np.all(outer[:, 0] <= inner[:, 0]) and np.all(inner[:, 1] <= outer[:, 1])
    # seasonal naive repeats 1960's months, read straight from the CSV
    last_year = [float(v) for v in
                 (ROOT / "data" / "airline_passengers.csv").read_text().split()[-12:]
                 for v in [v.split(",")[1]]]
    assert [float(r["seasonal_naive"]) for r in rows] == last_year * 2
    record = json.loads((out_dir / "future.json").read_text())
    assert record["steps"] == 24 and record["last_observed"] == "1960-12-01"
    assert "forecast of the 24 steps after 1960-12-01" in out and "covered" in out


@pytest.mark.parametrize("argv, message", [
    (["--future", "0"], "--future: expected a whole number of steps"),
    (["--future", "1e3"], "--future: expected a whole number of steps"),
    (["--levels", "80,120"], "--levels: expected percentages between 0 and 100"),
    (["--refit"], "--refit: expected --future H as well"),
])
def test_forecast_future_bad_arguments_exit_2_with_one_line(series_run, tmp_path, command, argv,
                                                            message):
    code, out, err = command(main, [series_run, "--out", tmp_path / "x"] + argv)
    assert code == 2 and out == "" and not (tmp_path / "x").exists()
    line, = err.splitlines()
    assert message in line and line.startswith("error: ")


def test_forecast_future_refit_trains_once_on_every_row_and_keeps_the_run_s_radii(
        series_run, tmp_path, command):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(series_run, run)
    code, _, err = command(main, [run, "--future", "12", "--out", tmp_path / "plain"])
    assert code == 0, err
    code, out, err = command(main, [run, "--future", "12", "--refit", "--out", tmp_path / "re"])
    assert code == 0 and err == "", err
    best = json.loads((run / "summary.json").read_text())["best_step"]
    refit_dir = run / f"refit-{best}"
    summary = json.loads((refit_dir / "summary.json").read_text())
    assert summary["steps"] == best and summary["best_step"] == best and summary["test"] is None
    assert summary["best"]["val_loss"] is None
    split = json.loads((refit_dir / "meta.json").read_text())["data"]["split"]
    assert split["rows"] == split["val_start"] == split["test_start"] == 144
    assert f"forecast by the refit on all 144 rows ({best} steps, {refit_dir})" in out

    plain, refitted = (_read_csv(tmp_path / name / "future.csv") for name in ("plain", "re"))
    assert [r["date"] for r in refitted] == [r["date"] for r in plain]
    assert [r["seasonal_naive"] for r in refitted] == [r["seasonal_naive"] for r in plain]
    assert [r["rnn"] for r in refitted] != [r["rnn"] for r in plain]

    def widths(rows):
        return np.array([float(r["rnn_upper_95"]) - float(r["rnn_lower_95"]) for r in rows])
    np.testing.assert_allclose(widths(refitted), widths(plain), rtol=1e-9)
    record = json.loads((tmp_path / "re" / "future.json").read_text())
    assert record["refit"] == {"run_dir": str(refit_dir), "rows": 144, "steps": best}
    assert "the refit has no held-out rows" in record["intervals"]["calibration"]

    # A second refit of the same run and checkpoint reuses it: nothing trains, nothing changes.
    before = {p: p.read_bytes() for p in refit_dir.rglob("*") if p.is_file()}
    code, again, err = command(main, [run, "--future", "12", "--refit", "--out", tmp_path / "2"])
    assert code == 0 and "run directory:" not in again
    assert {p: p.read_bytes() for p in refit_dir.rglob("*") if p.is_file()} == before
    assert (tmp_path / "2" / "future.csv").read_bytes() == \
        (tmp_path / "re" / "future.csv").read_bytes()


def test_a_bad_refit_request_fails_before_the_refit_trains(series_run, tmp_path, command):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(series_run, run)
    for argv, message in ((["--future", "1000"], "--future: expected 1 to 58 steps"),
                          (["--future", "3", "--out", run / "config.json"], "is not a folder")):
        code, out, err = command(main, [run, "--refit"] + argv)
        assert code == 2 and out == "" and message in err and err.count("\n") == 1, err
        assert not list(run.glob("refit-*"))
    # The refit itself has no held-out rows, and no validation part to calibrate on.
    code, _, err = command(main, [run, "--future", "3", "--refit", "--out", tmp_path / "f"])
    assert code == 0, err
    refit_dir, = run.glob("refit-*")
    for argv, message in (([refit_dir, "--future", "3"], "the run has no held-out rows"),
                          ([refit_dir], "the run has no validation part")):
        code, out, err = command(main, argv + ["--out", tmp_path / "g"])
        assert code == 2 and out == "" and message in err and err.count("\n") == 1, err


def test_forecast_future_past_a_horizon_longer_than_the_window_keeps_every_direct_step():
    data = prepare(_series(), 4, 6, val=0.2, test=0.2, transforms=["log", "diff"])

    def drifting(x):           # six direct steps from a window of four, not a seasonal copy
        return [np.cumsum(np.repeat(x[:, -1:, :1] * 0.5 + 0.1, 6, axis=1), axis=1)]

    session = _session(data, drifting, horizon=6)
    six = forecast_future(session, 6)["rnn"].to_numpy()
    thirteen = forecast_future(session, 13)["rnn"].to_numpy()
    np.testing.assert_allclose(thirteen[:6], six)        # asking for more changes nothing before
    assert np.all(np.isfinite(thirteen))


def test_forecast_future_steps_are_bounded_by_the_held_out_rows_and_levels_by_their_labels():
    data = prepare(_series(), LOOKBACK, HORIZON, val=0.2, test=0.2)
    session = _session(data, _seasonal_predict(HORIZON))
    held_out = len(data.series) - data.split.val_start
    assert len(forecast_future(session, held_out)) == held_out
    for steps in (0, held_out + 1, True):
        with pytest.raises(RnnlabError, match=rf"--future: expected 1 to {held_out} steps"):
            forecast_future(session, steps)
    with pytest.raises(RnnlabError, match="name the same band twice"):
        forecast_future(session, 2, levels=(0.8, 0.8000001))


def test_two_targets_are_scored_together_and_each_alone(tmp_path):
    one = _series()
    values = np.column_stack([one.values[:, 0], 3 * one.values[::-1, 0] + 7])
    series = Series(values, ("y", "z"), n_targets=2, dates=one.dates, source="two.csv")
    data = prepare(series, LOOKBACK, HORIZON, val=0.15, test=0.2)

    def predict(x):  # seasonal naive of both targets in the scaled space
        rows = x.shape[1] - SEASON + np.arange(HORIZON) % SEASON
        return [x[:, rows, :2].astype(np.float32)]

    result = forecast_run(_session(data, predict, run_dir=tmp_path))
    y, start = series.targets, data.split.test_start
    assert result["targets"] == ["y", "z"] and set(result["test_per_target"]) == {"y", "z"}
    for j, name in enumerate("yz"):
        alone = Series(values[:, j], (name,), dates=one.dates, source="one.csv")
        single = forecast_run(_session(prepare(alone, LOOKBACK, HORIZON, val=0.15, test=0.2),
                                       _seasonal_predict(HORIZON), run_dir=tmp_path / name))
        for model in MODELS:
            assert result["test_per_target"][name][model] == pytest.approx(single["test"][model])
    rows = _read_csv(tmp_path / "forecast" / "forecast.csv")
    assert len(rows) == len(y) - start and {"rnn:y", "rnn:z", "drift:z"} <= set(rows[0])
    text = format_report(result)
    assert "rows (forecast in blocks of 3), the 2 targets together" in text
    assert "test forecast of z: pooled over" in text
    # pooled over both targets: the mean absolute error of every point of both columns
    mae = np.mean([result["test_per_target"][t]["naive"]["mae"] for t in "yz"])
    assert result["test"]["naive"]["mae"] == pytest.approx(mae)
