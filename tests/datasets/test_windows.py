"""Sliding windows and recursive forecasting (rnnlab.datasets.windows)."""

import numpy as np
import pytest

from rnnlab.datasets.windows import make_windows, recursive_forecast


def numbered(n_rows, n_features):
    """Each cell encodes its row and column: 100 * row + column."""
    return 100.0 * np.arange(n_rows)[:, None] + np.arange(n_features)


@pytest.mark.parametrize("lookback, horizon, stride, start, end", [
    (3, 1, 1, 0, None), (4, 3, 2, 0, 20), (5, 2, 3, 12, 30), (2, 4, 1, 0, 6)])
def test_windows_match_a_plain_loop(lookback, horizon, stride, start, end):
    values = numbered(30, 3)
    w = make_windows(values, lookback, horizon, stride, start, end, n_targets=2)
    end = 30 if end is None else end
    expected_t = [t for t in range(lookback, end - horizon + 1) if t >= start][::stride]
    np.testing.assert_array_equal(w.t, expected_t)
    assert w.x.shape == (len(expected_t), lookback, 3) and w.x.dtype == np.float32
    assert w.y.shape == (len(expected_t), horizon, 2) and w.y.dtype == np.float32
    for i, t in enumerate(expected_t):
        np.testing.assert_array_equal(w.x[i], values[t - lookback:t])
        np.testing.assert_array_equal(w.y[i], values[t:t + horizon, :2])


def test_targets_stay_inside_bounds_while_inputs_may_reach_back():
    values = numbered(50, 1)
    w = make_windows(values, lookback=8, horizon=3, start=30, end=40)
    rows_in_y, rows_in_x = w.y / 100, w.x / 100
    assert rows_in_y.min() == 30 and rows_in_y.max() == 39      # every allowed target row, no more
    assert rows_in_x.min() == 22 and rows_in_x.max() == 36      # history before start, none after


def test_no_window_fits_gives_an_empty_batch():
    w = make_windows(numbered(10, 2), lookback=8, horizon=3)
    assert w.x.shape == (0, 8, 2) and w.y.shape == (0, 3, 2) and w.t.shape == (0,)


def test_make_windows_argument_errors():
    with pytest.raises(ValueError, match=r"^values: expected shape \(time, features\)"):
        make_windows(np.arange(5.0), 2, 1)
    with pytest.raises(ValueError, match="^horizon: expected an int >= 1, got 0"):
        make_windows(numbered(5, 1), 2, 0)
    with pytest.raises(ValueError, match=r"^start, end: expected 0 <= start <= end <= 5"):
        make_windows(numbered(5, 1), 2, 1, start=4, end=3)
    with pytest.raises(ValueError, match="^n_targets: expected 1 to 1, got 2"):
        make_windows(numbered(5, 1), 2, 1, n_targets=2)


def test_recursive_forecast_with_a_perfect_one_step_model_reproduces_the_series():
    """x[t] = 0.9 x[t-1] - 0.2 x[t-2] + c[t-1], with a covariate c known in advance."""
    n, lookback, steps = 40, 5, 8
    cov = np.sin(np.arange(n))
    x = np.zeros(n)
    x[:2] = [1.0, 0.5]
    for t in range(2, n):
        x[t] = 0.9 * x[t - 1] - 0.2 * x[t - 2] + cov[t - 1]
    values = np.column_stack([x, cov])

    def one_step(window):                     # the true model, (batch, lookback, 2) -> (batch, 1)
        return 0.9 * window[:, -1, :1] - 0.2 * window[:, -2, :1] + window[:, -1, 1:]

    origins = [10, 20]                        # forecast rows 10.. and 20..
    windows = np.stack([values[t - lookback:t] for t in origins])
    future = np.stack([values[t:t + steps, 1:] for t in origins])
    forecast = recursive_forecast(one_step, windows, steps, covariates=future)
    assert forecast.shape == (2, steps, 1)
    np.testing.assert_allclose(forecast[:, :, 0], [x[t:t + steps] for t in origins], rtol=1e-12)


def test_recursive_forecast_feeds_predictions_back():
    window = np.array([[[1.0, 10.0], [2.0, 20.0]]], dtype=np.float32)   # (1, 2, 2)
    seen = []

    def predict(x):
        seen.append(x.copy())
        return x[:, -1:, :1] + x[:, -1:, 1:]                              # (batch, 1, 1)

    out = recursive_forecast(predict, window, steps=3, covariates=[[[1.0], [2.0], [3.0]]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, :, 0], [22.0, 23.0, 25.0])
    np.testing.assert_array_equal(seen[2][0], [[22.0, 1.0], [23.0, 2.0]])


def test_recursive_forecast_errors():
    window = np.zeros((2, 3, 2))
    with pytest.raises(ValueError, match="^covariates: predict returns 1 target.*pass the"):
        recursive_forecast(lambda x: x[:, -1, :1], window, steps=2)
    with pytest.raises(ValueError, match=r"^covariates: expected shape \(2, 2, n_covariates\)"):
        recursive_forecast(lambda x: x[:, -1, :1], window, steps=2, covariates=np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match=r"^predict: expected an output of shape \(2, n_targets\)"):
        recursive_forecast(lambda x: x[0, -1], window, steps=1)
    with pytest.raises(ValueError, match="^steps: expected an int >= 1"):
        recursive_forecast(lambda x: x[:, -1], window, steps=0)
