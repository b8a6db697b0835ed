"""Raw time series: load a CSV file into a validated :class:`Series`.

Everything here works on raw values: nothing is scaled or transformed, so that the series can be
split first (:mod:`rnnlab.datasets.splitting`) and preprocessing fitted on training rows alone
(see :mod:`rnnlab.datasets.timeseries`).

Rows are counted from 1 after the header in every error message, and when the series has a date
column the row's date is shown too.

A date column is also a calendar: every date must be one step of the series' frequency after
the one before.  The frequency is a pandas offset alias, given (``data.freq``) or inferred from
the dates, and :func:`canonical_freq` spells each calendar one way, which is what
:attr:`Series.freq` holds:

=========  ======================================================================================
monthly    ``MS`` (month starts), ``ME`` (month ends)
quarterly  ``QS``, ``QE`` (quarters of January, April, July, October; ``QS-FEB``, ``QS-MAR``,
           ``QE-JAN``, ``QE-FEB`` for the other two quarter calendars)
yearly     ``YS``, ``YE`` (years from January; ``YS-JUL`` for years starting in July, ...)
weekly     ``W-SUN`` ... ``W-SAT`` (the weekday of the dates; ``W`` is ``W-SUN``)
daily      ``D``; ``B`` for business days; ``h``, ``min``, ``s`` below a day
=========  ======================================================================================

A step of several units has its multiple in front (``2W-SUN``, ``3MS``).  Rows missing from the
calendar are an error, or are inserted and filled with ``missing='interpolate'`` or ``'ffill'``.
"""

import collections
import difflib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from rnnlab.errors import ConfigError, DataError

__all__ = ["Series", "load_csv", "canonical_freq", "season_for", "SEASONS", "MISSING_POLICIES"]

#: What :func:`load_csv` may do with empty cells: reject them, interpolate linearly between the
#: neighbouring rows, or carry the last observed value forward.
MISSING_POLICIES = ("error", "interpolate", "ffill")

# Reindexing to the calendar may insert at most this many rows per row of the file.
_MAX_GROWTH = 10
# This many consecutive steps of the same size that are not the series' step is a change of
# spacing (quarterly turning monthly), not rows missing here and there.
_CHANGE_RUN = 3


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
    freq : str, optional
        The step between consecutive dates as a pandas offset alias, spelt by
        :func:`canonical_freq` (``"MS"``, ``"W-SUN"``, ``"QS"``, ``"YS"``, ``"D"``, ...);
        None without dates, or when too few dates show one.

    Examples
    --------
    >>> s = Series([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]], columns=("y", "x"))
    >>> s.values.shape, s.targets.shape, s.covariates.shape, len(s), s.freq
    ((3, 2), (3, 1), (3, 1), 3, None)
    >>> s.target_names, s.covariate_names
    (('y',), ('x',))
    """

    values: np.ndarray
    columns: tuple
    n_targets: int = 1
    dates: np.ndarray = None
    source: str = "<array>"
    freq: str = None

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
        if self.freq is not None and (not isinstance(self.freq, str) or dates is None):
            raise ValueError(f"freq: expected None, or an offset alias with dates, got "
                             f"{self.freq!r}")
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


def load_csv(path, target, date=None, covariates=(), missing="error", date_format=None,
             freq=None, dayfirst=False):
    """Load a CSV file into a :class:`Series`, rejecting anything that is not a clean time series.

    Parameters
    ----------
    path : str, Path or text file object
        The CSV file; the first line is the header.
    target : str or sequence of str
        The column(s) to forecast.
    date : str, optional
        A date column: parsed, required to be strictly increasing (sorted, no duplicates) and
        regular (one step of ``freq`` between consecutive rows).  Dates with a UTC offset
        (``2020-01-01T00:00+01:00``) are converted to UTC and stored without a time zone, so
        offsets may differ between rows (but a date without one among dates with one is an
        error).  Whole years (``1871``) and decimal years (``1871.0``, as statsmodels writes
        them) are January 1 of the year; fractions of a year that are whole months
        (``1871.0833`` is February) are month starts.
    covariates : sequence of str
        Extra numeric input columns (features that are not forecast).
    missing : {'error', 'interpolate', 'ffill'}
        Empty cells in target/covariate columns are rejected ('error'), filled linearly in row
        position between the nearest observed rows ('interpolate'; note that this looks one
        observation ahead), or filled with the last observed value ('ffill').  A leading gap
        (and, for 'interpolate', a trailing one) cannot be filled and is rejected.  With a date
        column, 'interpolate' and 'ffill' also reindex the series to its full calendar (from
        the first date to the last, one step of ``freq`` apart): the rows missing from the file
        are inserted as empty cells and filled the same way, so the result is regular.  When
        ``freq`` is inferred, three or more equal steps in a row that are not one step are a
        change of spacing (quarterly turning monthly), an error whatever ``missing`` is; give
        ``freq`` to reindex such a series anyway.
    date_format : str, optional
        A ``strftime`` format for the date column; by default pandas infers it.
    freq : str, optional
        The step between dates, a pandas offset alias (``"MS"``, ``"W-SUN"``, ``"D"``, ``"h"``,
        ``"QS"``, ``"Y"``, ...; see :func:`canonical_freq`).  By default it is inferred from the
        dates (``pandas.infer_freq``, or the most common step when rows are missing).
    dayfirst : bool
        Read dates like ``01.02.1949`` day first (1 February).  Without it, dates that can only
        be day-first (``13.02.1949``) are an error that says to set ``data.dayfirst=true``.

    Returns
    -------
    Series
        ``values`` of shape (time, len(target) + len(covariates)), targets first; ``freq`` the
        calendar's alias as :func:`canonical_freq` spells it (None without a date column, or
        with fewer than 3 dates and no ``freq``).

    Raises
    ------
    DataError
        Naming the file: empty file, unknown column (with the closest match), a cell that is not
        a finite number or date, unsorted or duplicate dates, dates off the calendar (rows
        missing, or a change of spacing; naming the first such row and the expected step), or a
        missing value under 'error'.  Messages name the config keys (``data.missing``,
        ``data.freq``, ``data.dayfirst``) that the commands read these arguments from.
    ConfigError
        ``freq`` is not an offset alias pandas knows, or is given without a date column; a
        column is named twice (as target and covariate, say).

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
    >>> str(s.dates[-1])[:10], s.freq
    ('1949-03-01', 'MS')

    A row missing from the calendar is an error, or is inserted and filled:

    >>> weekly = "Week,y\\n2020-01-05,1\\n2020-01-12,2\\n2020-01-19,3\\n2020-02-02,5\\n"
    >>> load_csv(io.StringIO(weekly), "y", date="Week")
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: <stream>: row 4 (Week=2020-02-02): 2 weeks after the previous date; ...
    >>> s = load_csv(io.StringIO(weekly), "y", date="Week", missing="interpolate")
    >>> s.values[:, 0], s.freq
    (array([1., 2., 3., 4., 5.]), 'W-SUN')

    Decimal years are yearly:

    >>> s = load_csv(io.StringIO("Year,y\\n1871.0,1\\n1872.0,2\\n1873.0,3\\n"), "y", date="Year")
    >>> str(s.dates[0])[:10], s.freq
    ('1871-01-01', 'YS')
    """
    source = str(getattr(path, "name", None) or "<stream>") if hasattr(path, "read") else str(path)
    targets = _names("target", target)
    extra = _names("covariates", covariates)
    if not targets:
        raise ValueError("target: expected at least one column name, got none")
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing: expected one of {MISSING_POLICIES}, got {missing!r}")
    if freq and date is None:
        raise ConfigError(f"data.freq = {freq!r}: expected a date column too (set data.date) "
                          "or no data.freq")
    wanted = targets + extra + ([date] if date is not None else [])
    repeated = sorted({c for c in wanted if wanted.count(c) > 1})
    if repeated:
        raise ConfigError(f"data.target/data.covariates/data.date: column(s) "
                          f"{', '.join(map(repr, repeated))} named twice; expected each column "
                          "in one role")

    frame = _read(source, path)
    _check_columns(source, list(frame.columns), wanted)
    labels = None if date is None else frame[date].tolist()

    def at(row):
        if row is None:
            return f"{source}: column {date!r}"
        return f"{source}: row {row + 1}" + ("" if labels is None else f" ({date}={labels[row]})")

    def where(row, column):
        return f"{at(row)}, column {column!r}"

    dates = calendar = full = None
    if date is not None:
        dates, hint = _parse_dates(frame[date], date, date_format or None, dayfirst, where)
        calendar, full, positions = _calendar(dates, freq or None, missing, at, hint)
    values = np.column_stack([_parse_numbers(frame[c], c, where) for c in targets + extra])
    filled_where = where
    if full is not None:
        values, filled_where = _reindex(values, full, positions, where, source)
        dates = full
    _fill_missing(values, targets + extra, missing, filled_where)
    return Series(values, tuple(targets + extra), len(targets), dates, source, calendar)


#: The seasonal period each calendar implies (a year of steps, a week of days, a day of hours),
#: by the base of a :func:`canonical_freq` alias.  Weeks use 52 (a year is 52.18 weeks; seasonal
#: naive needs a whole number of rows).
SEASONS = {"MS": 12, "ME": 12, "QS": 4, "QE": 4, "W": 52, "D": 7, "B": 5, "h": 24, "min": 60,
           "YS": 1, "YE": 1}


def season_for(freq):
    """The seasonal period a calendar implies: the ``data.season`` used when it is 0.

    Parameters
    ----------
    freq : str or None
        A :attr:`Series.freq` (``"MS"``, ``"W-SUN"``, ``"QS"``, ...), or None for a series
        without dates.

    Returns
    -------
    int
        12 monthly, 4 quarterly, 52 weekly, 7 daily, 5 business-daily, 24 hourly, 60 by the
        minute; 1 (no season: seasonal naive is naive) yearly, for a step of several units
        (``2W-SUN``) and without dates.

    Examples
    --------
    >>> season_for("MS"), season_for("W-SUN"), season_for("QS-FEB"), season_for(None)
    (12, 52, 4, 1)
    """
    if freq is None or freq[:1].isdigit():
        return 1
    return SEASONS.get(freq.split("-")[0], 1)


def canonical_freq(alias, first=None):
    """Spell a pandas offset alias the one way :attr:`Series.freq` holds it.

    Equal calendars get equal strings: ``"W"`` is ``"W-SUN"``, the four quarterly anchors of
    one calendar (``"QS-JAN"`` ... ``"QS-OCT"``) are ``"QS"``, ``"YS-JAN"`` is ``"YS"``.  The
    aliases pandas 3 no longer takes are read too: ``H``, ``T``, ``S`` are ``h``, ``min``,
    ``s``, and ``M``, ``Q``, ``Y`` and ``A`` mean monthly, quarterly and yearly at the starts
    (``MS``, ``QS``, ``YS``) when ``first`` is the first day of its month at midnight (or is not
    given), else at the ends (``ME``, ``QE``, ``YE``); their anchor names the month a period
    ends in, so at the starts it moves to the next month (``A-JUN`` is ``YS-JUL``).

    Parameters
    ----------
    alias : str or pandas.DateOffset
        The alias (or an offset, as ``pandas.infer_freq`` may return).
    first : datetime-like, optional
        The first date of the series, which decides ``M``, ``Q``, ``Y`` and ``A``.

    Returns
    -------
    str
        The alias, e.g. ``"MS"``, ``"ME"``, ``"QS"``, ``"YS"``, ``"W-SUN"``, ``"D"``, ``"2h"``.

    Raises
    ------
    ConfigError
        Naming ``data.freq`` when pandas knows no such alias.

    Examples
    --------
    >>> [canonical_freq(a) for a in ["MS", "W", "QS-OCT", "YS-JAN", "D", "H", "2W-MON"]]
    ['MS', 'W-SUN', 'QS', 'YS', 'D', 'h', '2W-MON']
    >>> canonical_freq("M", "1949-01-01"), canonical_freq("M", "1949-01-31"), canonical_freq("Y")
    ('MS', 'ME', 'YS')
    >>> canonical_freq("monthly")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: data.freq = 'monthly': not a pandas offset alias; expected ...
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated spellings: normalised below
            offset = to_offset(_modern_alias(alias, first) if isinstance(alias, str) else alias)
    except (ValueError, TypeError):
        offset = None
    if offset is None:
        raise ConfigError(f"data.freq = {alias!r}: not a pandas offset alias; expected e.g. "
                          "MS (month starts), ME, W-SUN, D, h, QS or YS ('' = infer from the "
                          "dates)")
    return _spelling(offset)


_LEGACY_ALIASES = {"H": "h", "T": "min", "S": "s", "L": "ms", "U": "us", "N": "ns",
                   "AS": "YS", "BA": "BYE", "BY": "BYE", "BM": "BME", "BQ": "BQE"}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _modern_alias(alias, first):
    match = re.fullmatch(r"\s*(\d*)\s*([A-Za-z]+)(-[A-Za-z]{3})?\s*", alias)
    if not match:
        return alias.strip()
    number, base, anchor = match[1], match[2], match[3] or ""
    if base in ("M", "Q", "Y", "A"):
        first = None if first is None else pd.Timestamp(first)
        start = first is None or (first.day == 1 and first == first.normalize())
        base = ("Y" if base == "A" else base) + ("S" if start else "E")
        if start and anchor.upper()[1:] in _MONTHS:  # Q-DEC: quarters ending ... in December
            anchor = "-" + _MONTHS[(_MONTHS.index(anchor.upper()[1:]) + 1) % 12]
    base = _LEGACY_ALIASES.get(base, base)
    return f"{number}{base}{anchor.upper()}"


def _spelling(offset):
    """The one spelling of an offset's calendar (see :func:`canonical_freq`)."""
    kind = type(offset).__name__
    times = "" if offset.n == 1 else str(offset.n)
    if kind == "QuarterBegin":
        month = (offset.startingMonth - 1) % 3  # 0 = Jan/Apr/Jul/Oct
        return f"{times}QS" + (f"-{_MONTHS[month]}" if month else "")
    if kind == "QuarterEnd":
        month = offset.startingMonth % 3  # 0 = Mar/Jun/Sep/Dec
        return f"{times}QE" + (f"-{_MONTHS[month - 1]}" if month else "")
    if kind == "YearBegin" and offset.month == 1:
        return f"{times}YS"
    if kind == "YearEnd" and offset.month == 12:
        return f"{times}YE"
    return offset.freqstr


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


# Year-first dates (1949-01-31) are never read day-first, even with dayfirst.
_YEAR_FIRST = re.compile(r"\d{4}\D")
# dd.mm.yyyy, dd/mm/yy, dd-mm-yyyy (or the same month-first): day-first when the first is > 12.
_DAY_MONTH = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
# 1871, 1871.0, 1871.0833: whole or decimal years.
_DECIMAL_YEAR = re.compile(r"\d{1,4}(\.\d*)?")
# A time followed by a UTC offset: 00:00Z, 00:00+01:00, 00:00:00-0500.
_UTC_OFFSET = re.compile(r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$")


def _parse_dates(raw, column, date_format, dayfirst, where):
    """The dates as datetime64[us], and a hint for calendar errors (day first? UTC?) or ""."""
    blank = raw.isna().to_numpy()
    if blank.any():
        row = int(np.argmax(blank))
        raise DataError(f"{where(row, column)}: the date is missing")
    texts = [str(t).strip() for t in raw]
    guessing = date_format is None
    if guessing and all(_DECIMAL_YEAR.fullmatch(t) for t in texts):
        dates = _decimal_years(texts, column, where)
    else:
        if guessing:
            _check_style(texts, column, dayfirst, where)
        day_first = dayfirst and guessing and not _YEAR_FIRST.match(texts[0])
        parsed = _to_datetime(raw, column, date_format, day_first, where)
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            if (guessing and not dayfirst and not _YEAR_FIRST.match(texts[0])
                    and not _to_datetime(raw, column, None, True, where).isna().any()):
                raise DataError(f"{where(row, column)}: {raw.iloc[row]!r} is not a date read "
                                "month first, but every date reads day first; set "
                                "data.dayfirst=true (or data.date_format)")
            expected = date_format or ("a day-first date, e.g. 31.01.1949" if day_first else
                                       "a date pandas can parse, e.g. 1949-01 or 1949-01-31")
            raise DataError(f"{where(row, column)}: {raw.iloc[row]!r} is not a date; "
                            f"expected {expected}")
        dates = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    _check_order(dates, raw, column, where)
    hint = ""
    if guessing and not dayfirst and all(_DAY_MONTH.match(t) for t in texts):
        hint = "; if the dates are day first, set data.dayfirst=true"
    elif _UTC_OFFSET.search(texts[0]):
        hint = " (the dates are compared in UTC, their offsets applied)"
    return dates, hint


def _check_style(texts, column, dayfirst, where):
    """Reject dates that pandas would read silently but perhaps wrongly."""
    offsets = [bool(_UTC_OFFSET.search(t)) for t in texts]
    if any(offsets) and not all(offsets):
        row = offsets.index(not offsets[0])
        has = "has no" if offsets[0] else "has a"
        raise DataError(f"{where(row, column)}: {texts[row]!r} {has} UTC offset, unlike row 1 "
                        f"({texts[0]!r}); expected an offset on every date or on none")
    if dayfirst:
        return
    for row, text in enumerate(texts):
        match = _DAY_MONTH.match(text)
        if match and int(match[1]) > 12 >= int(match[3]):
            sep, year = match[2], "%Y" if len(match[4]) == 4 else "%y"
            raise DataError(f"{where(row, column)}: {text!r} starts with day {int(match[1])}, "
                            f"so the dates are day first; set data.dayfirst=true (or "
                            f"data.date_format=%d{sep}%m{sep}{year})")


def _to_datetime(raw, column, date_format, dayfirst, where):
    """``pandas.to_datetime`` in UTC, unparseable cells NaT; other trouble is one line."""
    with warnings.catch_warnings():  # notes on format inference: each cell is checked after
        warnings.simplefilter("ignore", UserWarning)
        try:
            return pd.to_datetime(raw, format=date_format, dayfirst=dayfirst, errors="coerce",
                                  utc=True)
        except (ValueError, TypeError, OverflowError) as err:
            lines = str(err).strip().splitlines() or [type(err).__name__]
            raise DataError(f"{where(0, column)}: cannot read the dates ({lines[0]})") from None


def _decimal_years(texts, column, where):
    numbers = np.array([float(t) for t in texts])
    years = np.floor(numbers)
    twelfths = (numbers - years) * 12
    months = np.round(twelfths)
    off = np.abs(twelfths - months) > 0.01  # 0.01 month is about 7 hours
    if off.any():
        row = int(np.argmax(off))
        raise DataError(f"{where(row, column)}: {texts[row]!r} is a decimal year that is not a "
                        "whole month; expected whole years (1871 or 1871.0) or twelfths of a "
                        "year (1871.0833 = February 1871)")
    stamps = ((years - 1970) * 12 + months).astype(np.int64)
    return stamps.astype("datetime64[M]").astype("datetime64[us]")


def _check_order(dates, raw, column, where):
    steps = np.diff(dates)
    if (steps <= np.timedelta64(0)).any():
        row = int(np.argmax(steps <= np.timedelta64(0))) + 1
        if steps[row - 1] == np.timedelta64(0):
            problem = f"duplicate date {raw.iloc[row]!r} (also on row {row}); dates must be unique"
        else:
            problem = (f"{raw.iloc[row]!r} comes after {raw.iloc[row - 1]!r} on row {row}; "
                       "dates must be in increasing order")
        raise DataError(f"{where(row, column)}: {problem}")


def _infer(index):
    """``pandas.infer_freq`` as :func:`canonical_freq` spells it, or None."""
    with warnings.catch_warnings():  # pandas 4 will return an offset: both are handled
        warnings.simplefilter("ignore")
        try:
            found = pd.infer_freq(index)
        except (ValueError, TypeError):
            return None
    return None if found is None else _spelling(to_offset(found))


def _most_common_step(index, windows=200):
    """The step inferred on most short stretches of ``index`` (for dates with gaps), or None.

    Stretches of 4 dates are tried first, then of 3 (pandas needs 3 to infer a step).
    """
    for width in (4, 3):
        if len(index) < width:
            continue
        starts = np.arange(len(index) - width + 1)
        if len(starts) > windows:
            starts = np.unique(np.linspace(0, len(index) - width, windows).astype(int))
        found = collections.Counter(_infer(index[s:s + width]) for s in starts)
        found.pop(None, None)
        if found:
            return found.most_common(1)[0][0]
    return None


def _gap_words(before, after):
    """How far apart two timestamps are, in words: '2 weeks', '3 months', '1 day'."""
    def count(n, unit):
        return f"{n} {unit}" + ("" if n == 1 else "s")

    months = (after.year - before.year) * 12 + after.month - before.month
    same_place = (after.day == before.day or (after.is_month_end and before.is_month_end))
    if months > 0 and same_place and after.time() == before.time():
        return count(months // 12, "year") if months % 12 == 0 else count(months, "month")
    delta = after - before
    for unit, size in (("week", "7D"), ("day", "1D"), ("hour", "1h"), ("minute", "1min"),
                       ("second", "1s")):
        if delta % pd.Timedelta(size) == pd.Timedelta(0):
            return count(int(delta // pd.Timedelta(size)), unit)
    return str(delta)


def _calendar(dates, freq, missing, at, hint):
    """Check that ``dates`` step by ``freq`` (given, or inferred).

    Returns the alias and, when rows are missing and ``missing`` fills them, the full calendar
    (datetime64[us]) and the position of each date in it; else None, None.
    """
    index = pd.DatetimeIndex(dates)
    inferred = _infer(index) if len(index) >= 3 else None
    if freq is not None:
        alias, origin = canonical_freq(freq, index[0]), "data.freq"
    elif inferred is not None or len(index) < 3:
        return inferred, None, None
    else:
        alias, origin = _most_common_step(index), "inferred from the dates"
        if alias is None:
            raise DataError(f"{at(None)}: no regular step found between the dates; set data.freq "
                            f"to the step they should have (e.g. MS for month starts, W-SUN, D)"
                            f"{hint}")
    if alias == inferred:
        return alias, None, None
    offset = to_offset(alias)
    expected = f"expected one step of {alias} ({origin})"
    looks = f" (the dates look {inferred})" if inferred else ""
    first, last = index[0], index[-1]
    if not offset.is_on_offset(first):
        raise DataError(f"{at(0)}: this date is not on the {alias} calendar ({origin}){looks}; "
                        f"expected dates one step of {alias} apart{hint}")
    steps_spanned = int((last - first) / ((first + offset) - first)) + 1
    if steps_spanned > _MAX_GROWTH * len(index) + 100:
        raise DataError(f"{at(None)}: the dates span about {steps_spanned} steps of {alias} "
                        f"({origin}) but the file has {len(index)} rows{looks}; expected a "
                        f"regular series (check data.freq){hint}")
    full = pd.date_range(first, last, freq=offset, unit="us").to_numpy(dtype="datetime64[us]")
    positions = np.minimum(np.searchsorted(full, dates), len(full) - 1)
    off = full[positions] != dates
    if off.any():
        row = int(np.argmax(off))
        if row == 0:  # pandas may count a date on an offset's day at any time of day
            raise DataError(f"{at(0)}: this date is not on the {alias} calendar ({origin})"
                            f"{looks}; expected dates one step of {alias} apart{hint}")
        problem = ("this date is not on that calendar" if freq is not None else
                   "the spacing changes; expected one regular spacing (or set data.freq)")
        raise DataError(f"{at(row)}: {_gap_words(index[row - 1], index[row])} after the previous "
                        f"date; {expected}{looks} \N{EM DASH} {problem}{hint}")
    steps = np.diff(positions)
    if (steps == 1).all():
        return alias, None, None
    if freq is None:  # a run of equal steps is another spacing, not rows missing
        same = (steps[:-1] > 1) & (steps[1:] == steps[:-1])
        runs = np.ones(max(len(same) - _CHANGE_RUN + 2, 0), bool)
        for k in range(_CHANGE_RUN - 1):
            runs &= same[k:len(same) - _CHANGE_RUN + 2 + k]
        if runs.any():
            row = int(np.argmax(runs)) + 1
            length = int(np.argmax(np.append(steps[row - 1:] != steps[row - 1], True)))
            raise DataError(f"{at(row)}: {_gap_words(index[row - 1], index[row])} after the "
                            f"previous date, like the {length - 1} rows after it; {expected} "
                            f"\N{EM DASH} the spacing changes; expected one regular spacing "
                            f"(or set data.freq){hint}")
    if missing == "error":
        row = int(np.argmax(steps > 1)) + 1
        here, total = int(steps[row - 1]) - 1, int((steps - 1).sum())
        count = f"{here} row{'' if here == 1 else 's'} missing" + (
            f" here, {total} in all" if total > here else "")
        raise DataError(f"{at(row)}: {_gap_words(index[row - 1], index[row])} after the previous "
                        f"date; {expected}{looks} \N{EM DASH} {count}; set data.missing="
                        f"interpolate or data.missing=ffill to reindex and fill them{hint}")
    return alias, full, positions


def _reindex(values, full, positions, where, source):
    """``values`` on the full calendar (new rows empty), and ``where`` for its rows."""
    grown = np.full((len(full), values.shape[1]), np.nan)
    grown[positions] = values
    file_rows = np.full(len(full), -1)
    file_rows[positions] = np.arange(len(values))

    def filled_where(row, column):
        if file_rows[row] >= 0:
            return where(int(file_rows[row]), column)
        day = str(pd.Timestamp(full[row])).removesuffix(" 00:00:00")
        return (f"{source}: inserted row {day} (after row {int(file_rows[:row].max()) + 1}), "
                f"column {column!r}")

    return grown, filled_where


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
                        "missing in all); set data.missing=interpolate or data.missing=ffill to "
                        "fill them")
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
