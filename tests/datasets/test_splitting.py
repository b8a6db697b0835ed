"""Chronological train / validation / test splits (rnnlab.datasets.splitting)."""

import re
from pathlib import Path

import numpy as np
import pytest

from rnnlab.datasets.series import Series, load_csv
from rnnlab.datasets.splitting import split
from rnnlab.errors import DataError

AIRLINE = Path(__file__).resolve().parents[2] / "data" / "airline_passengers.csv"


@pytest.mark.parametrize("val, test, part", [
    (0.6, 0.4, "training"),          # nothing left for training
    (0.01, 0.2, "validation"),       # 0.01 * 20 rounds to 0 rows
    (0.2, 0.02, "test"),
])
def test_split_fractions_that_leave_a_part_empty(tmp_path, val, test, part):
    path = tmp_path / "bad.csv"
    path.write_text("y\n" + "".join(f"{v}\n" for v in range(20)))
    start = re.escape(str(path))
    with pytest.raises(DataError, match=rf"^{start}: val = {val}, test = {test} on 20 rows "
                                        rf"leaves the {part} part empty"):
        split(load_csv(path, "y"), val=val, test=test)


def test_split_by_fractions_is_chronological():
    series = Series(np.arange(100.0), ("y",))
    parts = split(series, val=0.15, test=0.15)
    assert (parts.val_start, parts.test_start) == (70, 85)
    np.testing.assert_array_equal(np.concatenate([parts.train, parts.val, parts.test]),
                                  series.values)
    no_test = split(series, val=0.2, test=0)
    assert (no_test.val_start, no_test.test_start, len(no_test.test)) == (80, 100, 0)


def test_split_by_dates_on_the_airline_data():
    series = load_csv(AIRLINE, "Passengers", date="Month")
    parts = split(series, val="1958-01", test=np.datetime64("1959-01"))
    assert (parts.val_start, parts.test_start) == (108, 120)
    assert parts.to_dict() == {"rows": 144, "val_start": 108, "test_start": 120,
                               "val_start_date": "1958-01-01", "test_start_date": "1959-01-01"}
    mixed = split(series, val=0.25, test="1960-01")  # 36 validation rows before the test year
    assert (mixed.val_start, mixed.test_start) == (96, 132)
    with pytest.raises(DataError, match="leaves the test part empty"):
        split(series, val=0.1, test="1961-01")


def test_split_argument_errors():
    series = Series(np.arange(10.0), ("y",))
    with pytest.raises(ValueError, match=r"^val: expected a fraction in \[0, 1\)"):
        split(series, val=1.5)
    with pytest.raises(TypeError, match="^test: expected a fraction or a date"):
        split(series, test=[0.1])
    with pytest.raises(DataError, match="has no date column"):
        split(series, test="2000-01")
