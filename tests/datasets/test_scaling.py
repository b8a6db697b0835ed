"""Transforms and scalers fitted on training rows (rnnlab.datasets.scaling)."""

import json

import numpy as np
import pytest

from rnnlab.datasets.scaling import Preprocessor
from rnnlab.errors import DataError

TRANSFORMS = [(), ("log",), ("diff",), ("diff:12",), ("log", "diff:12"), ("log", "diff", "diff:12"),
              ("diff", "log")]


def trending_seasonal(n=72, seed=0):
    """A positive monthly series with trend and season, plus a covariate that goes negative."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    target = 100 * np.exp(0.01 * t) * (1.2 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.random(n)
    covariate = np.sin(t / 5.0) * 3 - 1
    return np.column_stack([target, covariate])


@pytest.mark.parametrize("scaler", ["standard", "minmax", "none"])
@pytest.mark.parametrize("transforms", TRANSFORMS, ids=lambda t: "+".join(t) or "identity")
def test_transform_then_inverse_is_exact(transforms, scaler):
    raw = trending_seasonal()
    if transforms == ("diff", "log"):  # log after diff needs positive differences
        raw[:, 0] = np.cumsum(1 + np.arange(len(raw)) % 5)
    pre = Preprocessor(transforms, scaler, n_targets=1).fit(raw[:50])
    out = pre.transform(raw)
    assert out.shape == (len(raw) - pre.offset, 2)
    back = pre.inverse_transform(out, history=raw[:pre.offset])
    np.testing.assert_allclose(back, raw[pre.offset:], rtol=1e-12, atol=1e-12)
    # The covariate is only scaled, never logged or differenced.
    np.testing.assert_allclose(out[:, 1] * pre.scale[1] + pre.center[1], raw[pre.offset:, 1],
                               rtol=1e-12)


def test_inverting_forecasts_from_a_known_history():
    """A batch of forecasts, each starting at a different row, inverted with its own history."""
    raw = trending_seasonal()
    pre = Preprocessor(["log", "diff", "diff:12"], n_targets=1).fit(raw[:48])
    out = pre.transform(raw)
    starts = np.array([40, 50, 60])                      # raw rows of the first forecast step
    horizon = 6
    forecast = np.stack([out[s - pre.offset:s - pre.offset + horizon, :1] for s in starts])
    history = np.stack([raw[s - 20:s, :1] for s in starts])     # longer than needed is fine
    back = pre.inverse_transform(forecast, history)
    assert back.shape == (3, horizon, 1)
    np.testing.assert_allclose(back, np.stack([raw[s:s + horizon, :1] for s in starts]),
                               rtol=1e-12)


def test_diff_inverse_by_hand():
    raw = np.array([[10.0], [12.0], [11.0], [15.0]])
    pre = Preprocessor(["diff:2"], "none").fit(raw)
    np.testing.assert_array_equal(pre.transform(raw), [[1.0], [3.0]])
    # Future differences 1, 2, 3 continue from the known 11, 15: 12, 17, 15.
    np.testing.assert_array_equal(pre.inverse_transform([[1.0], [2.0], [3.0]], history=raw),
                                  [[12.0], [17.0], [15.0]])


def test_statistics_come_from_the_rows_given_to_fit_only():
    raw = trending_seasonal()
    pre = Preprocessor(["log", "diff"], "standard", n_targets=1).fit(raw[:40])
    expected = np.column_stack([np.diff(np.log(raw[:40, 0])), raw[1:40, 1]])
    np.testing.assert_allclose(pre.center, expected.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(pre.scale, expected.std(axis=0), rtol=1e-12)
    minmax = Preprocessor(scaler="minmax").fit(raw[:40])
    scaled = minmax.transform(raw[:40])
    np.testing.assert_allclose([scaled.min(axis=0), scaled.max(axis=0)], [[0, 0], [1, 1]],
                               atol=1e-15)


def test_constant_column_gets_scale_one():
    pre = Preprocessor(scaler="standard").fit([[3.0, 1.0], [3.0, 2.0]])
    np.testing.assert_array_equal(pre.scale, [1.0, 0.5])
    np.testing.assert_array_equal(pre.transform([[4.0, 1.5]]), [[1.0, 0.0]])


def test_state_round_trips_through_json_exactly():
    raw = trending_seasonal()
    pre = Preprocessor(["log", "diff:12"], "minmax", n_targets=1).fit(raw[:50])
    state = json.loads(json.dumps(pre.to_dict()))
    assert state["transforms"] == ["log", "diff:12"] and state["n_targets"] == 1
    again = Preprocessor.from_dict(state)
    np.testing.assert_array_equal(again.transform(raw), pre.transform(raw))
    with pytest.raises(ValueError, match=r"missing key\(s\) \['scale'\]"):
        Preprocessor.from_dict({k: v for k, v in state.items() if k != "scale"})
    for key, value in (("scale", 0.0), ("scale", -2.0), ("center", float("nan")),
                       ("scale", float("inf"))):
        with pytest.raises(ValueError, match=r"center and scale must be finite, the scale > 0"):
            Preprocessor.from_dict({**state, key: [value] * len(state[key])})


def test_argument_and_value_errors():
    with pytest.raises(ValueError, match="^transforms: expected 'log', 'diff' or 'diff:<lag>'"):
        Preprocessor(["diff:0"])
    with pytest.raises(ValueError, match="^scaler: expected one of"):
        Preprocessor(scaler="robust")
    with pytest.raises(ValueError, match="call fit"):
        Preprocessor().transform([[1.0]])
    with pytest.raises(DataError, match=r"log transform needs positive values; row 2, column 1 "
                                        r"is -1\.0"):
        Preprocessor(["log"]).fit([[1.0], [-1.0]])
    with pytest.raises(DataError, match="more than 12 training rows"):
        Preprocessor(["diff:12"]).fit(np.ones((12, 1)))
    pre = Preprocessor(["diff"]).fit([[1.0], [2.0], [4.0]])
    with pytest.raises(ValueError, match="^history: needed"):
        pre.inverse_transform([[0.0]])
    with pytest.raises(ValueError, match=r"^history: expected shape \(t >= 1, 1\), got \(0, 1\)"):
        pre.inverse_transform([[0.0]], history=np.zeros((0, 1)))
    with pytest.raises(ValueError, match="^values: expected 1 columns"):
        pre.transform([[1.0, 2.0]])
