"""Chronological train / validation / test splits of a raw time series.

The split is taken on the raw series, before any preprocessing, and kept as two row bounds on
the whole series rather than three copies, so that validation and test windows can take their
input history from the rows before them (see :mod:`rnnlab.datasets.windows`).
"""

import numbers
from dataclasses import dataclass
from datetime import date as _date_type

import numpy as np
import pandas as pd

from rnnlab.datasets.series import Series
from rnnlab.errors import DataError

__all__ = ["Split", "split", "as_date"]


@dataclass(frozen=True, eq=False)
class Split:
    """A chronological train / validation / test split of a :class:`Series`, kept as row bounds.

    Rows ``[0, val_start)`` are training, ``[val_start, test_start)`` validation and
    ``[test_start, len(series))`` test.  Keeping the whole series (rather than three copies) lets
    validation and test windows take their input history from the rows before them.

    Parameters
    ----------
    series : Series
    val_start, test_start : int
        First row of the validation and of the test part.

    Examples
    --------
    >>> sp = Split(Series(np.arange(10.0), ("y",)), val_start=6, test_start=8)
    >>> sp.train.shape, sp.val.shape, sp.test.shape
    ((6, 1), (2, 1), (2, 1))
    >>> sp.to_dict()
    {'rows': 10, 'val_start': 6, 'test_start': 8}
    """

    series: Series
    val_start: int
    test_start: int

    @property
    def train(self):
        """Raw training rows, shape (val_start, features)."""
        return self.series.values[:self.val_start]

    @property
    def val(self):
        """Raw validation rows, shape (test_start - val_start, features)."""
        return self.series.values[self.val_start:self.test_start]

    @property
    def test(self):
        """Raw test rows, shape (time - test_start, features)."""
        return self.series.values[self.test_start:]

    def to_dict(self):
        """The split as a JSON-serialisable dict (row bounds, and boundary dates if known)."""
        state = {"rows": len(self.series), "val_start": self.val_start,
                 "test_start": self.test_start}
        dates = self.series.dates
        if dates is not None:
            for key in ("val_start", "test_start"):
                row = state[key]
                state[key + "_date"] = (np.datetime_as_string(dates[row], unit="auto")
                                        if row < len(dates) else None)
        return state


def split(series, val=0.15, test=0.15, names=("val", "test")):
    """Split a series chronologically into training, validation and test rows.

    Parameters
    ----------
    series : Series
    val, test : float or date
        A fraction in ``[0, 1)`` gives that part ``round(fraction * len(series))`` rows (the test
        rows last, the validation rows just before them); a date (str, datetime or
        ``numpy.datetime64``; the series needs dates) makes the part start at the first row on or
        after it.  A fraction of 0 asks for no such part.
    names : (str, str)
        What the errors call ``val`` and ``test`` (config keys, for a config's data).

    Returns
    -------
    Split

    Raises
    ------
    DataError
        Naming the file, when the training part would be empty or a requested part gets no rows.

    Examples
    --------
    >>> s = Series(np.arange(20.0), ("y",))
    >>> sp = split(s, val=0.15, test=0.25)
    >>> sp.val_start, sp.test_start
    (12, 15)
    >>> dated = Series(np.arange(6.0), ("y",), dates=np.arange("2000-01", "2000-07", dtype="M8[M]"))
    >>> split(dated, val="2000-04", test="2000-06").to_dict()["test_start"]
    5
    """
    n = len(series)
    test_start = _boundary(series, names[1], test, n)
    val_start = _boundary(series, names[0], val, test_start)
    where = f"{series.source}: {names[0]} = {val!r}, {names[1]} = {test!r} on {n} rows"
    if val_start <= 0:
        raise DataError(f"{where} leaves the training part empty")
    if val_start > test_start:
        raise DataError(f"{where} puts the validation start (row {val_start + 1}) after the test "
                        f"start (row {test_start + 1})")
    for part, value, empty in (("validation", val, val_start == test_start),
                               ("test", test, test_start == n)):
        if empty and not (_is_fraction(value) and value == 0):
            raise DataError(f"{where} leaves the {part} part empty")
    return Split(series, val_start, test_start)


def _is_fraction(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _boundary(series, argument, value, end):
    """First row of a part that ends at row ``end`` (fraction) or starts at a date."""
    if _is_fraction(value):
        if not 0 <= value < 1:
            raise ValueError(f"{argument}: expected a fraction in [0, 1) or a date, got {value!r}")
        return end - int(round(value * len(series)))
    if not isinstance(value, (str, _date_type, np.datetime64)):
        raise TypeError(f"{argument}: expected a fraction or a date, got {value!r}")
    if series.dates is None:
        raise DataError(f"{series.source}: {argument} = {value!r} is a date but the series has "
                        "no date column; pass date= to load_csv or give a fraction")
    return int(np.searchsorted(series.dates, as_date(value, argument), side="left"))


def as_date(value, name="date"):
    """Read a split point given as a date.

    Parameters
    ----------
    value : str, datetime.date or numpy.datetime64
        ``"1958-01"``, ``"1958-01-01"``, ``datetime.date(1958, 1, 1)``, ...
    name : str
        What the error calls the value.

    Returns
    -------
    numpy.datetime64
        In microseconds, the unit of :attr:`Series.dates`.

    Raises
    ------
    ValueError
        When pandas cannot read ``value`` as a date.

    Examples
    --------
    >>> as_date("1958-01")
    np.datetime64('1958-01-01T00:00:00.000000')
    >>> as_date("1958-13", "data.val_start")
    Traceback (most recent call last):
    ...
    ValueError: data.val_start = '1958-13': expected a date such as 1958-01 or 1958-01-31
    """
    try:
        when = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        when = pd.NaT
    if when is pd.NaT:
        raise ValueError(f"{name} = {value!r}: expected a date such as 1958-01 or 1958-01-31")
    if when.tzinfo is not None:  # the series' dates are in UTC (rnnlab.datasets.series)
        when = when.tz_convert("UTC").tz_localize(None)
    return np.datetime64(when, "us")
