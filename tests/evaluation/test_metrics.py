"""Forecast metrics against hand-computed values (rnnlab.evaluation.metrics)."""

import numpy as np
import pytest

from rnnlab.evaluation.metrics import mae, mape, mase, rmse, smape

ACTUAL = np.array([100.0, 200.0, 50.0, 80.0])
FORECAST = np.array([110.0, 180.0, 50.0, 100.0])     # errors: -10, 20, 0, -20


def test_values_match_hand_computation():
    assert mae(ACTUAL, FORECAST) == 12.5                            # (10 + 20 + 0 + 20) / 4
    assert rmse(ACTUAL, FORECAST) == np.sqrt(225.0)                 # (100 + 400 + 0 + 400) / 4
    assert mape(ACTUAL, FORECAST) == pytest.approx(11.25, rel=1e-14)  # (10 + 10 + 0 + 25) / 4 %
    # sMAPE terms: 20/210, 40/380, 0, 40/180
    expected = 100 * (20 / 210 + 40 / 380 + 0 + 40 / 180) / 4
    assert smape(ACTUAL, FORECAST) == pytest.approx(expected, rel=1e-14)
    assert type(mae(ACTUAL, FORECAST)) is float and type(smape(ACTUAL, FORECAST)) is float


def test_mase_scales_by_the_in_sample_seasonal_naive_error():
    train = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 9.0])
    # m = 1: |1| + |2| + |1| + |2| + |4| -> 2.0; m = 3: |3 - 1| + |5 - 2| + |9 - 4| -> 10 / 3
    assert mase([10.0, 12.0], [11.0, 9.0], train) == pytest.approx(2.0 / 2.0, rel=1e-14)
    assert mase([10.0, 12.0], [11.0, 9.0], train, m=3) == pytest.approx(2.0 / (10 / 3), rel=1e-14)
    # 2-D train: one scale per column (2.0 and 20.0).
    two = np.column_stack([train, 10 * train])
    value = mase([[10.0, 100.0]], [[12.0, 120.0]], two)
    assert value == pytest.approx((2.0 / 2.0 + 20.0 / 20.0) / 2, rel=1e-14)


def test_metrics_accept_any_equal_shapes():
    actual = np.arange(1.0, 13.0).reshape(2, 3, 2)
    assert mae(actual, actual + 1) == 1.0
    assert smape(actual, actual) == 0.0
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0                     # 0/0 terms count as 0


def test_metric_errors():
    with pytest.raises(ValueError, match=r"^forecast: expected the shape of actual \(4,\), "
                                         r"got \(3,\)"):
        mae(ACTUAL, FORECAST[:3])
    with pytest.raises(ValueError, match="^actual: expected at least one value"):
        rmse([], [])
    with pytest.raises(ValueError, match="^actual: MAPE is undefined"):
        mape([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="^train: MASE is undefined"):
        mase([1.0], [2.0], [3.0, 3.0, 3.0])
    with pytest.raises(ValueError, match=r"^train: expected shape \(time,\) or \(time, n\) "
                                         r"with time > m = 12"):
        mase([1.0], [2.0], np.arange(12.0), m=12)
    with pytest.raises(ValueError, match=r"^train: expected \(2,\) columns"):
        mase([[1.0, 2.0]], [[1.0, 2.0]], np.ones((5, 3)))
