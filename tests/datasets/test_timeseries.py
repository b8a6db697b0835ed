"""The leak-free pipeline end to end (rnnlab.datasets.timeseries.prepare) and the airline data."""

import json
from pathlib import Path

import numpy as np
import pytest

from rnnlab.datasets.timeseries import Preprocessor, Series, load_csv, prepare, split
from rnnlab.errors import DataError
from rnnlab.evaluation.baselines import seasonal_naive
from rnnlab.evaluation.metrics import mape

DATA = Path(__file__).resolve().parents[2] / "data"
PIPELINES = [((), "standard"), (("log", "diff:12"), "standard"), (("log", "diff"), "minmax")]


@pytest.fixture(scope="module")
def airline():
    return load_csv(DATA / "airline_passengers.csv", "Passengers", date="Month")


def perturbed(series, rows):
    """A copy of ``series`` with the given rows multiplied by 3."""
    values = series.values.copy()
    values[rows] *= 3.0
    return Series(values, series.columns, series.n_targets, series.dates, series.source)


def arrays(data, part):
    windows = getattr(data, part)
    return windows.x, windows.y


@pytest.mark.parametrize("transforms, scaler", PIPELINES)
def test_leakage_is_impossible(airline, transforms, scaler):
    settings = dict(lookback=24, horizon=6, val=0.2, test=0.2, transforms=transforms,
                    scaler=scaler)
    data = prepare(airline, **settings)
    val_start, test_start = data.split.val_start, data.split.test_start

    # Targets stay in their part; validation inputs may reach back into training rows, test
    # inputs into validation rows, and every window sits before the part that follows it.
    assert (data.train.t + data.horizon).max() <= val_start
    assert data.val.t.min() == val_start and (data.val.t + data.horizon).max() <= test_start
    assert data.test.t.min() == test_start and (data.test.t + data.horizon).max() == len(airline)
    assert data.val.t.min() - data.lookback < val_start
    assert data.test.t.min() - data.lookback < test_start

    # Changing validation and test values changes neither the scaler nor any training array ...
    later = prepare(perturbed(airline, slice(val_start, None)), **settings)
    assert later.preprocessor.to_dict() == data.preprocessor.to_dict()
    for new, old in zip(arrays(later, "train"), arrays(data, "train")):
        np.testing.assert_array_equal(new, old)
    # ... and changing test values leaves the validation arrays alone, ...
    last = prepare(perturbed(airline, slice(test_start, None)), **settings)
    for new, old in zip(arrays(last, "val"), arrays(data, "val")):
        np.testing.assert_array_equal(new, old)
    # ... while a change to the last training row does reach the validation inputs and the scaler
    # (so the checks above could fail).
    edge = prepare(perturbed(airline, [val_start - 1]), **settings)
    assert not np.array_equal(edge.val.x, data.val.x)
    assert edge.preprocessor.to_dict() != data.preprocessor.to_dict()


@pytest.mark.parametrize("transforms, scaler", PIPELINES)
def test_forecasts_invert_to_raw_units(airline, transforms, scaler):
    data = prepare(airline, lookback=24, horizon=12, stride=3, transforms=transforms,
                   scaler=scaler)
    for windows in (data.train, data.val, data.test):
        actual = data.actuals(windows)
        assert actual.shape == windows.y.shape == (len(windows.t), 12, 1)
        # y is float32: inverting it recovers the raw values to float32 precision ...
        np.testing.assert_allclose(data.inverse(windows.y, windows), actual, rtol=2e-5)
    # ... and the float64 transform inverts exactly.
    full = data.preprocessor.transform(airline.values)
    t = data.test.t
    exact = np.stack([full[i - data.preprocessor.offset:][:12] for i in t])
    np.testing.assert_allclose(data.inverse(exact, data.test), data.actuals(data.test),
                               rtol=1e-12)


def test_state_is_json_and_restores_the_preprocessing(airline):
    data = prepare(airline, lookback=12, horizon=3, val="1958-01", test="1959-01",
                   transforms=["log", "diff:12"])
    state = json.loads(json.dumps(data.to_dict()))
    assert state["split"]["val_start_date"] == "1958-01-01" and state["lookback"] == 12
    assert state["columns"] == ["Passengers"] and state["source"].endswith("airline_passengers.csv")
    restored = Preprocessor.from_dict(state["preprocessor"])
    np.testing.assert_array_equal(restored.transform(airline.values),
                                  data.preprocessor.transform(airline.values))
    refit = Preprocessor(["log", "diff:12"], n_targets=1).fit(airline.values[:108])
    np.testing.assert_array_equal(refit.center, restored.center)


def test_multivariate_inputs_targets_first():
    series = load_csv(DATA / "us_macro.csv", ["realgdp", "realcons"], date="Quarter",
                      covariates=["unemp", "infl"])
    data = prepare(series, lookback=8, horizon=4, transforms=["log", "diff"])
    assert data.train.x.shape[1:] == (8, 4) and data.train.y.shape[1:] == (4, 2)
    # Covariates are scaled but not logged or differenced; the first input is raw row 1
    # (differencing consumed row 0).
    pre = data.preprocessor
    assert pre.n_targets == 2
    first_input_row = data.train.x[0, 0].astype(np.float64) * pre.scale + pre.center
    np.testing.assert_allclose(first_input_row[2:], series.covariates[1], rtol=1e-6)
    np.testing.assert_allclose(first_input_row[:2], np.diff(np.log(series.targets[:2]), axis=0)[0],
                               rtol=1e-4, atol=1e-6)


def test_a_part_without_a_whole_window_is_named(airline):
    with pytest.raises(DataError, match=r"airline_passengers.csv: the test part \(rows 139-144\) "
                                        r"holds no window .* has 6 rows and needs at least 12"):
        prepare(airline, lookback=12, horizon=12, val=0.2, test=0.04)
    with pytest.raises(DataError, match="airline_passengers.csv: the training part"):
        prepare(airline, lookback=60, horizon=12, val=0.3, test=0.3)


def test_airline_seasonal_naive_mape_acceptance(airline):
    """Forecast 1958-1960 from the end of 1957 by repeating 1957: MAPE 13.19%."""
    history = split(airline, val=0, test="1958-01").train[:, 0]
    assert len(history) == 108 and history[-1] == 336             # December 1957
    forecast = seasonal_naive(history, horizon=36, m=12)
    np.testing.assert_array_equal(forecast, np.tile(history[-12:], 3))
    value = mape(airline.values[-36:, 0], forecast)
    assert abs(value - 13.19) < 0.005, value                      # exactly 13.189432350948...
