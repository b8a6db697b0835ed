"""Raw time series: load a CSV file into a validated :class:`Series`.

Everything here works on raw values: nothing is scaled or transformed, so that the series can be
split first (:mod:`rnnlab.datasets.splitting`) and preprocessing fitted on training rows alone
(see :mod:`rnnlab.datasets.timeseries`).

Rows are counted from 1 after the header in every error message, and when the series has a date
column the row's date is shown too.
"""

import difflib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.errors import DataError

__all__ = ["Series", "load_csv", "MISSING_POLICIES"]

#: What :func:`load_csv` may do with empty cells: reject them, interpolate linearly between the
#: neighbouring rows, or carry the last observed value forward.
MISSING_POLICIES = ("error", "interpolate", "ffill")


@dataclass(frozen=True, eq=False)
class Series:
    """A validated multivariate time series: target columns first, then covariates.

    Parameters
    ----------
    values : array_like, shape (time, features) or (time,)
        Raw values, converted to float64; a 1-D array is one column.
    columns : sequence of str
        One name per feature column.
    n_targets : int
        The first ``n_targets`` columns are forecast targets; the rest are covariates (inputs only).
    dates : array_like of datetime64, shape (time,), optional
        Strictly increasing timestamps of the rows.
    source : str
        Where the data came from (a file name); used in error messages.

    Examples
    --------
    >>> s = Series([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]], columns=("y", "x"))
    >>> s.values.shape, s.targets.shape, s.covariates.shape, len(s)
    ((3, 2), (3, 1), (3, 1), 3)
    >>> s.target_names, s.covariate_names
    (('y',), ('x',))
    """

    values: np.ndarray
    columns: tuple
    n_targets: int = 1
    dates: np.ndarray = None
    source: str = "<array>"

    def __post_init__(self):
        values = np.array(self.values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2:
            raise ValueError(f"values: expected shape (time, features), got {values.shape}")
        columns = tuple(str(c) for c in self.columns)
        if len(columns) != values.shape[1]:
            raise ValueError(f"columns: expected {values.shape[1]} names, got {len(columns)}")
        if not 1 <= self.n_targets <= len(columns):
            raise ValueError(f"n_targets: expected 1 to {len(columns)}, got {self.n_targets}")
        dates = self.dates
        if dates is not None:
            dates = np.asarray(dates, dtype="datetime64[us]")
            if dates.shape != (len(values),):
                raise ValueError(f"dates: expected shape ({len(values)},), got {dates.shape}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "dates", dates)

    def __len__(self):
        return len(self.values)

    @property
    def targets(self):
        """The target columns, shape (time, n_targets)."""
        return self.values[:, :self.n_targets]

    @property
    def covariates(self):
        """The covariate columns, shape (time, features - n_targets)."""
        return self.values[:, self.n_targets:]

    @property
    def target_names(self):
        """Names of the target columns."""
        return self.columns[:self.n_targets]

    @property
    def covariate_names(self):
        """Names of the covariate columns."""
        return self.columns[self.n_targets:]


def load_csv(path, target, date=None, covariates=(), missing="error", date_format=None):
    """Load a CSV file into a :class:`Series`, rejecting anything that is not a clean time series.

    Parameters
    ----------
    path : str, Path or text file object
        The CSV file; the first line is the header.
    target : str or sequence of str
        The column(s) to forecast.
    date : str, optional
        A date column: parsed, and required to be strictly increasing (sorted, no duplicates).
    covariates : sequence of str
        Extra numeric input columns (features that are not forecast).
    missing : {'error', 'interpolate', 'ffill'}
        Empty cells in target/covariate columns are rejected ('error'), filled linearly in row
        position between the nearest observed rows ('interpolate'; note that this looks one
        observation ahead), or filled with the last observed value ('ffill').  A leading gap
        (and, for 'interpolate', a trailing one) cannot be filled and is rejected.
    date_format : str, optional
        A ``strftime`` format for the date column; by default pandas infers it.

    Returns
    -------
    Series
        ``values`` of shape (time, len(target) + len(covariates)), targets first.

    Raises
    ------
    DataError
        Naming the file: empty file, unknown column (with the closest match), a cell that is not
        a finite number or date, unsorted or duplicate dates, or a missing value under 'error'.

    Examples
    --------
    >>> import io
    >>> text = "Month,Passengers,Temp\\n1949-01,112,3.5\\n1949-02,118,\\n1949-03,132,5.5\\n"
    >>> s = load_csv(io.StringIO(text), "Passengers", date="Month", covariates=["Temp"],
    ...              missing="interpolate")
    >>> s.values
    array([[112. ,   3.5],
           [118. ,   4.5],
           [132. ,   5.5]])
    >>> str(s.dates[-1])[:10]
    '1949-03-01'
    """
    source = str(getattr(path, "name", None) or "<stream>") if hasattr(path, "read") else str(path)
    targets = _names("target", target)
    extra = _names("covariates", covariates)
    if not targets:
        raise ValueError("target: expected at least one column name, got none")
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing: expected one of {MISSING_POLICIES}, got {missing!r}")
    wanted = targets + extra + ([date] if date is not None else [])
    repeated = sorted({c for c in wanted if wanted.count(c) > 1})
    if repeated:
        raise ValueError(f"target/covariates/date: column(s) {repeated} requested twice")

    frame = _read(source, path)
    _check_columns(source, list(frame.columns), wanted)
    labels = None if date is None else frame[date].tolist()

    def where(row, column):
        at = f"row {row + 1}" + ("" if labels is None else f" ({date}={labels[row]})")
        return f"{source}: {at}, column {column!r}"

    dates = None if date is None else _parse_dates(frame[date], date, date_format, where)
    values = np.column_stack([_parse_numbers(frame[c], c, where) for c in targets + extra])
    _fill_missing(values, targets + extra, missing, where)
    return Series(values, tuple(targets + extra), len(targets), dates, source)


def _names(argument, names):
    if isinstance(names, str):
        return [names]
    names = list(names)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{argument}: expected a column name or a sequence of names, got {names!r}")
    return names


def _read(source, path):
    if not hasattr(path, "read") and not Path(path).is_file():
        raise DataError(f"{source}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: the file is empty; expected a header line and data "
                        "rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        first_line = str(err).strip().splitlines()[0]
        raise DataError(f"{source}: not a readable CSV file ({first_line})") from None
    if len(frame) == 0:
        raise DataError(f"{source}: the file has a header but no data rows")
    return frame


def _check_columns(source, columns, wanted):
    for name in wanted:
        if name in columns:
            continue
        lowered = {c.lower(): c for c in columns}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else ""
        listed = ", ".join(repr(c) for c in columns)
        raise DataError(f"{source}: column {name!r} not found (columns: {listed}){hint}")


def _parse_dates(raw, column, date_format, where):
    blank = raw.isna().to_numpy()
    if blank.any():
        row = int(np.argmax(blank))
        raise DataError(f"{where(row, column)}: the date is missing")
    with warnings.catch_warnings():  # a format pandas cannot infer: each cell is checked below
        warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
        parsed = pd.to_datetime(raw, format=date_format, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        expected = date_format or "a date pandas can parse, e.g. 1949-01 or 1949-01-31"
        raise DataError(f"{where(row, column)}: {raw.iloc[row]!r} is not a date; "
                        f"expected {expected}")
    dates = parsed.to_numpy(dtype="datetime64[us]")
    steps = np.diff(dates)
    if (steps <= np.timedelta64(0)).any():
        row = int(np.argmax(steps <= np.timedelta64(0))) + 1
        if steps[row - 1] == np.timedelta64(0):
            problem = f"duplicate date {raw.iloc[row]!r} (also on row {row}); dates must be unique"
        else:
            problem = (f"{raw.iloc[row]!r} comes after {raw.iloc[row - 1]!r} on row {row}; "
                       "dates must be in increasing order")
        raise DataError(f"{where(row, column)}: {problem}")
    return dates


def _parse_numbers(raw, column, where):
    numbers_ = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    blank = raw.isna().to_numpy()
    bad = ~blank & ~np.isfinite(numbers_)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{where(row, column)}: {raw.iloc[row]!r} is not a finite number")
    return numbers_


def _fill_missing(values, columns, missing, where):
    """Fill NaNs in ``values`` (time, features) in place according to ``missing``."""
    gaps = np.isnan(values)
    if not gaps.any():
        return
    if missing == "error":
        row, col = (int(i) for i in np.argwhere(gaps)[0])
        raise DataError(f"{where(row, columns[col])}: the value is missing ({int(gaps.sum())} "
                        "missing in all); pass missing='interpolate' or 'ffill' to fill them")
    positions = np.arange(len(values))
    for col in np.flatnonzero(gaps.any(axis=0)):
        known = ~gaps[:, col]
        if not known.any():
            raise DataError(f"{where(0, columns[col])}: every value is missing")
        first, last = np.flatnonzero(known)[[0, -1]]
        if first > 0:
            raise DataError(f"{where(0, columns[col])}: the value is missing and there is no "
                            f"earlier value to {missing} from")
        if missing == "interpolate":
            if last < len(values) - 1:
                raise DataError(f"{where(last + 1, columns[col])}: the value is missing "
                                "and there is no later value to interpolate from")
            values[~known, col] = np.interp(positions[~known], positions[known], values[known, col])
        else:
            last_known = np.maximum.accumulate(np.where(known, positions, 0))
            values[:, col] = values[last_known, col]
