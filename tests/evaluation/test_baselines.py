"""Naive, seasonal-naive and drift forecasts against hand-computed values (rnnlab.evaluation.baselines)."""

import numpy as np
import pytest

from rnnlab.evaluation.baselines import drift, naive, seasonal_naive

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
    with pytest.raises(ValueError, match="^m: expected an int >= 1, got 0"):
        seasonal_naive(HISTORY, 2, m=0)
    with pytest.raises(ValueError, match="^history: expected at least 12 time steps, got 6"):
        seasonal_naive(HISTORY, 2, m=12)
    with pytest.raises(ValueError, match="^history: expected at least 2 time steps, got 1"):
        drift([1.0], 2)
    with pytest.raises(ValueError, match=r"^history: expected shape \(time,\)"):
        naive(3.0, 1)
