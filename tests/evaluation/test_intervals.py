"""rnnlab.evaluation.intervals: split-conformal radii and their measured coverage."""

import numpy as np
import pytest

from rnnlab.evaluation import baselines
from rnnlab.evaluation.intervals import coverage, level_label, radii


def _errors(forecast, y, origins, steps):
    rows = origins[:, None] + np.arange(steps)
    return y[rows] - forecast


def test_intervals_cover_their_level_on_held_out_data_of_known_noise():
    """A seasonal series with Gaussian noise; the forecaster is seasonal naive (m = 12).

    Calibrated on the first half's origins, the 80 % and 95 % bands must cover within a few
    points of 80 % and 95 % of the second half's outcomes, at every horizon step."""
    rng = np.random.default_rng(1)
    n, m, steps, sigma = 4000, 12, 6, 2.0
    t = np.arange(n)
    y = (10 * np.sin(2 * np.pi * t / m) + rng.normal(0, sigma, n))[:, None]

    def forecast(origins):
        return np.stack([baselines.seasonal_naive(y[:o], steps, m) for o in origins])

    calibration = np.arange(m, n // 2 - steps)
    held_out = np.arange(n // 2, n - steps)
    radius, count, short = radii(_errors(forecast(calibration), y, calibration, steps))
    assert count.ravel().tolist() == [len(calibration)] * steps and not short.any()
    # seasonal-naive errors are the difference of two noise draws: N(0, 2 sigma^2)
    scale = sigma * np.sqrt(2)
    np.testing.assert_allclose(radius[:, :, 0], [[1.2816 * scale] * steps, [1.96 * scale] * steps],
                               rtol=0.08)
    predicted = forecast(held_out)
    actual = y[held_out[:, None] + np.arange(steps)]
    for i, level in enumerate((0.8, 0.95)):
        pooled, per_step = coverage(actual, predicted, radius[i])
        assert pooled == pytest.approx(level, abs=0.03)
        assert np.allclose(per_step, level, atol=0.04)


def test_radii_skip_missing_outcomes_flag_short_samples_and_never_shrink():
    errors = np.full((30, 3, 1), np.nan)
    errors[:, 0, 0] = np.arange(30.0)           # 30 errors at step 1
    errors[:25, 1, 0] = np.arange(25.0) / 10    # 25 smaller ones at step 2: clipped up
    errors[:10, 2, 0] = -np.arange(10.0) * 9    # 10 at step 3, negative signs count as |e|
    radius, count, short = radii(errors, levels=(0.5, 0.95))
    assert count[:, 0].tolist() == [30, 25, 10]
    assert radius[0, :, 0].tolist() == [15.0, 15.0, 45.0]      # rank ceil(31 * 0.5) = 16
    assert radius[1, 0, 0] == 29.0 and radius[1, 2, 0] == 81.0  # rank 30 of 30; the largest
    assert short[:, :, 0].tolist() == [[False, False, False], [False, False, True]]
    none = radii(np.full((4, 2, 1), np.nan))[0]
    assert np.isnan(none).all()


@pytest.mark.parametrize("levels", [(), (0.0,), (1.0,), (0.5, 1.5)])
def test_radii_reject_levels_outside_zero_one(levels):
    with pytest.raises(ValueError, match="levels"):
        radii(np.ones((5, 1, 1)), levels)


def test_coverage_checks_shapes_and_labels_read_as_percent():
    with pytest.raises(ValueError, match="expected"):
        coverage(np.ones((2, 3, 1)), np.ones((2, 3, 1)), np.ones((2, 1)))
    assert coverage(np.full((1, 1, 1), np.nan), np.zeros((1, 1, 1)), np.ones((1, 1))) == \
        (None, [None])
    assert [level_label(v) for v in (0.8, 0.95, 0.5, 0.999)] == ["80", "95", "50", "99.9"]


def test_coverage_leaves_out_steps_without_a_radius_and_the_rank_survives_rounding():
    actual = np.zeros((4, 2, 1))
    pooled, per_step = coverage(actual, actual, np.array([[1.0], [np.nan]]))
    assert pooled == 1.0 and per_step == [1.0, None]
    errors = np.arange(1.0, 25.0)[:, None, None]     # n = 24: (n + 1) * 0.56 is 14.000000000000002
    assert radii(errors, levels=(0.56,))[0].ravel().tolist() == [14.0]
