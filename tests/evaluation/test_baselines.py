"""Naive, seasonal-naive and drift forecasts against hand-computed values (rnnlab.evaluation.baselines)."""

import numpy as np
import pytest

from rnnlab.evaluation.baselines import drift, naive, seasonal_naive, seasonal_naive_drift
from rnnlab.evaluation.metrics import season_changes

HISTORY = np.array([2.0, 4.0, 3.0, 6.0, 5.0, 8.0])


def test_naive_repeats_the_last_value():
    np.testing.assert_array_equal(naive(HISTORY, 3), [8.0, 8.0, 8.0])


@pytest.mark.parametrize("m, horizon, expected", [
    (1, 2, [8.0, 8.0]),                       # m = 1 is the naive forecast
    (2, 5, [5.0, 8.0, 5.0, 8.0, 5.0]),
    (3, 4, [6.0, 5.0, 8.0, 6.0]),
    (6, 2, [2.0, 4.0]),                       # the whole history is one season
])
def test_seasonal_naive_repeats_the_last_season(m, horizon, expected):
    np.testing.assert_array_equal(seasonal_naive(HISTORY, horizon, m), expected)


def test_drift_extends_the_first_to_last_line():
    # slope = (8 - 2) / 5 = 1.2
    np.testing.assert_allclose(drift(HISTORY, 3), [9.2, 10.4, 11.6], rtol=1e-15)
    np.testing.assert_array_equal(drift([5.0, 5.0], 2), [5.0, 5.0])


@pytest.mark.parametrize("forecaster", [naive, drift, lambda h, n: seasonal_naive(h, n, m=2)])
def test_time_axis_is_minus_two_for_batches_of_series(forecaster):
    batch = np.stack([np.column_stack([HISTORY, 10 * HISTORY]),
                      np.column_stack([-HISTORY, HISTORY])])
    out = forecaster(batch, 4)                                 # (2, 6, 2) -> (2, 4, 2)
    assert out.shape == (2, 4, 2)
    for b in range(2):
        for column in range(2):
            np.testing.assert_allclose(out[b, :, column], forecaster(batch[b, :, column], 4),
                                       rtol=1e-15)


def test_baseline_argument_errors():
    with pytest.raises(ValueError, match="^horizon: expected an int >= 1, got 0"):
        naive(HISTORY, 0)
    with pytest.raises(ValueError, match="^m: expected a number >= 1, got 0"):
        seasonal_naive(HISTORY, 2, m=0)
    with pytest.raises(ValueError, match="^history: expected at least 12 time steps, got 6"):
        seasonal_naive(HISTORY, 2, m=12)
    with pytest.raises(ValueError, match="^history: expected at least 2 time steps, got 1"):
        drift([1.0], 2)
    with pytest.raises(ValueError, match=r"^history: expected shape \(time,\)"):
        naive(3.0, 1)


@pytest.mark.parametrize("m", [1.5, 2.5, 7.25, 52.18])
def test_fractional_seasons_read_between_rows_and_reproduce_a_ramp(m):
    ramp = np.arange(120.0)           # y[t] = t: interpolation is exact on a line
    horizon = 60
    # Row 120 + j is read ceil((j + 1) / m) whole seasons back, between two rows of the ramp.
    expected = [120 + j - m * np.ceil((j + 1) / m) for j in range(horizon)]
    assert max(expected) <= 119 and min(expected) > 119 - m
    np.testing.assert_allclose(seasonal_naive(ramp, horizon, m), expected, rtol=1e-12)
    # With the mean change per season added back (m per season on the ramp): the ramp itself.
    np.testing.assert_allclose(seasonal_naive_drift(ramp, horizon, m), 120 + np.arange(horizon),
                               rtol=1e-12)
    np.testing.assert_allclose(season_changes(ramp, m), m, rtol=1e-12)
    assert season_changes(ramp, m).shape == (120 - int(np.ceil(m)),)


def test_a_whole_season_given_as_a_float_is_the_integer_season():
    for m in (1.0, 3.0, 6.0):
        np.testing.assert_array_equal(seasonal_naive(HISTORY, 7, m),
                                      seasonal_naive(HISTORY, 7, int(m)))


def test_weekly_data_with_a_year_of_52_18_weeks_is_forecast_better_at_52_18_than_at_52():
    weeks = np.arange(52 * 20 + 10, dtype=np.float64)
    year = 365.25 / 7
    series = 10 * np.sin(2 * np.pi * weeks / year)
    history, future = series[:-104], series[-104:]
    errors = {m: np.mean(np.abs(seasonal_naive(history, 104, m) - future)) for m in (52, year)}
    assert errors[year] < 0.05 * errors[52]


def test_batched_histories_forecast_like_each_history_alone():
    rng = np.random.default_rng(3)
    batch = rng.normal(size=(4, 30, 2))
    together = seasonal_naive_drift(batch, 9, 4.4)
    for b in range(4):
        np.testing.assert_allclose(together[b], seasonal_naive_drift(batch[b], 9, 4.4), rtol=1e-12)
