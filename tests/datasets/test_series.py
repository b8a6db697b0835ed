"""Loading and validating CSV time series (rnnlab.datasets.series)."""

import re
from pathlib import Path

import numpy as np
import pytest

from rnnlab.datasets.series import load_csv
from rnnlab.datasets.timeseries import prepare
from rnnlab.errors import DataError

AIRLINE = Path(__file__).resolve().parents[2] / "data" / "airline_passengers.csv"
FIRST_YEAR = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]


def write(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_airline_loads_as_144_monthly_values():
    series = load_csv(AIRLINE, "Passengers", date="Month")
    assert series.values.shape == (144, 1) and series.values.dtype == np.float64
    np.testing.assert_array_equal(series.targets[:12, 0], FIRST_YEAR)
    assert series.values.sum() == 40363  # the well-known total of the 1949-1960 series
    assert str(series.dates[0])[:7] == "1949-01" and str(series.dates[-1])[:7] == "1960-12"
    assert series.source == str(AIRLINE) and series.columns == ("Passengers",)


def test_targets_then_covariates_in_the_order_asked(tmp_path):
    path = write(tmp_path, "d,a,b,c\n2000-01-01,1,10,100\n2000-01-02,2,20,200\n", "ok.csv")
    series = load_csv(path, ["c", "a"], date="d", covariates=["b"])
    assert series.columns == ("c", "a", "b") and series.n_targets == 2
    np.testing.assert_array_equal(series.targets, [[100, 1], [200, 2]])
    np.testing.assert_array_equal(series.covariates, [[10], [20]])


GAPPY = "t,y,x\n1,1.0,5\n2,,6\n3,,7\n4,7.0,8\n5,8.0,\n"


@pytest.mark.parametrize("policy, expected_y, expected_x", [
    ("interpolate", [1, 3, 5, 7, 8], None),
    ("ffill", [1, 1, 1, 7, 8], [5, 6, 7, 8, 8]),
])
def test_missing_value_policies(tmp_path, policy, expected_y, expected_x):
    path = write(tmp_path, GAPPY if policy == "ffill" else GAPPY.replace("8.0,\n", "8.0,9\n"))
    series = load_csv(path, "y", covariates=["x"], missing=policy)
    np.testing.assert_allclose(series.targets[:, 0], expected_y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(series.covariates[:, 0], expected_x or [5, 6, 7, 8, 9])


@pytest.mark.parametrize("text, policy, fragments", [
    ("t,y\n\n1,1\n2,2\n", "ffill", None),  # blank lines are skipped, not missing values
    ("t,y\n1,\n2,1\n3,2\n", "ffill", ["row 1", "'y'", "no earlier value"]),
    ("t,y\n1,1\n2,2\n3,\n4,NA\n", "interpolate", ["row 3", "'y'", "no later value"]),
    ("t,y\n1,\n2,\n", "interpolate", ["row 1", "every value is missing"]),
])
def test_gaps_a_policy_cannot_fill(tmp_path, text, policy, fragments):
    path = write(tmp_path, text)
    if fragments is None:
        np.testing.assert_array_equal(load_csv(path, "y", missing=policy).values[:, 0], [1, 2])
        return
    with pytest.raises(DataError) as info:
        load_csv(path, "y", missing=policy)
    for fragment in [str(path)] + fragments:
        assert fragment in str(info.value)


# One case per kind of bad input: (file text or None for a missing file, load_csv keywords,
# fragments the one-line message must contain besides the file name).
BAD_INPUTS = {
    "empty file": ("", {}, ["empty"]),
    "header only": ("Month,Passengers\n", {}, ["no data rows"]),
    "no such file": (None, {}, ["no such file"]),
    "misspelled column": ("Month,Passengers\n1949-01,112\n", {"target": "Pasengers"},
                          ["'Pasengers' not found", "'Month', 'Passengers'",
                           "did you mean 'Passengers'?"]),
    "missing column": ("Month,Passengers\n1949-01,112\n", {"covariates": ["Temperature"]},
                       ["'Temperature' not found", "'Month', 'Passengers'"]),
    "non-numeric cell": ("Month,Passengers\n1949-01,112\n1949-02,1l8\n", {},
                         ["row 2 (Month=1949-02)", "column 'Passengers'", "'1l8' is not a"]),
    "infinite cell": ("Month,Passengers\n1949-01,inf\n", {}, ["row 1", "'inf' is not a finite"]),
    "unparseable date": ("Month,Passengers\n1949-01,112\n1949-2x,118\n", {},
                         ["row 2", "column 'Month'", "'1949-2x' is not a date"]),
    "empty date": ("Month,Passengers\n1949-01,112\n,118\n", {},
                   ["row 2", "column 'Month'", "date is missing"]),
    "unsorted dates": ("Month,Passengers\n1949-01,1\n1949-03,2\n1949-02,3\n", {},
                       ["row 3 (Month=1949-02)", "comes after '1949-03' on row 2", "increasing"]),
    "duplicate dates": ("Month,Passengers\n1949-01,1\n1949-02,2\n1949-02,3\n", {},
                        ["row 3", "duplicate date '1949-02' (also on row 2)"]),
    "NaN without a policy": ("Month,Passengers\n1949-01,112\n1949-02,\n1949-03,NaN\n", {},
                             ["row 2 (Month=1949-02)", "column 'Passengers'", "missing",
                              "2 missing", "missing='interpolate'"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_data_error_naming_the_file(tmp_path, case):
    text, keywords, fragments = BAD_INPUTS[case]
    path = tmp_path / "bad.csv" if text is None else write(tmp_path, text)
    arguments = {"target": "Passengers", "date": "Month", **keywords}
    with pytest.raises(DataError) as info:
        load_csv(path, **arguments)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_series_shorter_than_lookback_plus_horizon(tmp_path):
    path = write(tmp_path, "y\n" + "".join(f"{v}\n" for v in range(1, 11)))
    series = load_csv(path, "y")
    start = re.escape(str(path))
    with pytest.raises(DataError, match=rf"^{start}: the series has 10 rows; .* = 12"):
        prepare(series, lookback=8, horizon=4)
    with pytest.raises(DataError, match=r"10 rows; .* = 10 plus 1 rows consumed by differencing"):
        prepare(series, lookback=8, horizon=2, transforms=["diff"])
