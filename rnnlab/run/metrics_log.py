"""The metrics log: one fsync'ed CSV row per evaluation in ``metrics.csv``, and reading it back.

:class:`MetricsLog` appends rows under a fixed header (:data:`METRIC_COLUMNS` for a run) and
checks the header of a file it resumes; :func:`read_metrics` reads any such file into dicts of
floats.  Part of a run directory (:class:`rnnlab.run.RunDir` names the file).
"""

import csv
import io
import numbers
import os
from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError, WriteError
from rnnlab.files import atomic_write_text

__all__ = ["METRIC_COLUMNS", "MetricsLog", "read_metrics"]

#: The columns of ``metrics.csv``, in order (an empty cell where a metric does not apply).
METRIC_COLUMNS = ("step", "epoch", "wall_time", "train_loss", "val_loss", "bpc", "perplexity",
                  "rmse", "mae", "mase", "grad_norm", "lr")


def _cell(column, value):
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    raise TypeError(f"row[{column!r}]={value!r}: expected a number or None")


def read_metrics(path, increasing=False):
    """Read a metrics CSV file written by :class:`MetricsLog`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``metrics.csv`` file.
    increasing : bool
        Also require every row to have a ``step`` greater than the row before (a log that one
        process wrote, one row per evaluation); reports read logs this way.

    Returns
    -------
    list of dict
        One dict per row, ``{column: float}``; empty cells are ``None``.  A last line without
        its newline is a row being written (or cut short by a crash) and is left out.

    Raises
    ------
    RnnlabError
        If the file is missing, or a row has the wrong number of cells or a cell that is not a
        number, or (with ``increasing``) a step that does not increase; the message names the
        file and the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "metrics.csv"
    >>> _ = path.write_text("step,val_loss\\n100,2.5\\n200,\\n")
    >>> read_metrics(path)
    [{'step': 100.0, 'val_loss': 2.5}, {'step': 200.0, 'val_loss': None}]
    >>> _ = path.write_text("step,val_loss\\n100,2.5\\n200,2.4\\n100,2.5\\n")
    >>> read_metrics(path, increasing=True)
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: .../metrics.csv: line 4: step 100 follows step 200; expected ...
    >>> tmp.cleanup()
    """
    return _parse(path, _read_text(path), increasing)


def _read_text(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise RnnlabError(f"{path}: cannot read the metrics file ({err.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RnnlabError(f"{path}: byte {err.start} is not valid UTF-8; expected a metrics CSV "
                          f"file") from None


def _shown(value):
    return str(int(value)) if value is not None and float(value).is_integer() else repr(value)


def _parse(path, text, increasing=False):
    text = text[:text.rfind("\n") + 1]  # only complete lines
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines:
        return []
    header, rows = lines[0], []
    for number, cells in enumerate(lines[1:], start=2):
        if len(cells) != len(header):
            raise RnnlabError(f"{path}: line {number} has {len(cells)} cells; expected "
                              f"{len(header)} ({','.join(header)})")
        row = {}
        for column, cell in zip(header, cells):
            try:
                row[column] = float(cell) if cell != "" else None
            except ValueError:
                raise RnnlabError(f"{path}: line {number}, column {column!r}: {cell!r} is not a "
                                  f"number") from None
        step = row.get("step")
        if increasing and (step is None or (rows and step <= rows[-1]["step"])):
            found = (f"step {_shown(step)} follows step {_shown(rows[-1]['step'])}" if rows
                     and step is not None else "no step")
            raise RnnlabError(f"{path}: line {number}: {found}; expected steps that strictly "
                              f"increase, one row per evaluation (was the run written by two "
                              f"processes at once?)")
        rows.append(row)
    return rows


class MetricsLog:
    """An append-only CSV log with a fixed header: one fsync'ed row per call.

    The header is written with the first row; a file that already exists (a resumed run) must
    have exactly the same header.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file, usually ``<run>/metrics.csv``.
    columns : sequence of str
        The column names, in order (e.g. :data:`METRIC_COLUMNS`).

    Raises
    ------
    RnnlabError
        If ``path`` exists with a different header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> log = MetricsLog(pathlib.Path(tmp.name) / "metrics.csv", ["step", "val_loss", "bpc"])
    >>> log.append({"step": 100, "val_loss": 1.75})
    >>> log.append({"step": 200, "val_loss": np.float32(1.5), "bpc": 2.0})
    >>> print(log.path.read_text(), end="")
    step,val_loss,bpc
    100,1.75,
    200,1.5,2.0
    >>> log.read()[1]
    {'step': 200.0, 'val_loss': 1.5, 'bpc': 2.0}
    >>> tmp.cleanup()
    """

    def __init__(self, path, columns):
        columns = tuple(columns) if not isinstance(columns, str) else None
        if (not columns or not all(isinstance(c, str) and c for c in columns)
                or len(set(columns)) != len(columns)):
            raise ValueError(f"columns={columns!r}: expected a non-empty sequence of distinct, "
                             f"non-empty column names")
        self.path = Path(path)
        self.columns = columns
        self._check_header()

    def _header_line(self):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(self.columns)
        return buffer.getvalue()

    def _check_header(self):
        try:
            with open(self.path, "rb") as handle:
                first = handle.readline().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as err:
            raise RnnlabError(f"{self.path}: cannot read the metrics file ({err.strerror})"
                              ) from None
        if not first.endswith("\n") and self._header_line().startswith(first):
            return  # empty, or a header cut short by a crash: truncate_after drops it
        if first != self._header_line():
            raise RnnlabError(f"{self.path}: existing header {first.rstrip()!r} differs from the "
                              f"expected {self._header_line().rstrip()!r}; expected a metrics "
                              f"file of this run")

    def append(self, row):
        """Append one row and fsync it.

        Parameters
        ----------
        row : dict
            ``{column: number or None}``; 0-d arrays and numpy scalars are accepted, ints are
            written as ints and floats with all their digits.  Missing columns get an empty cell.

        Raises
        ------
        ValueError
            If ``row`` names a column the log does not have.
        TypeError
            If a value is not a number or None.
        """
        unknown = [key for key in row if key not in self.columns]
        if unknown:
            raise ValueError(f"row has unknown column {unknown[0]!r}; expected some of "
                             f"{', '.join(self.columns)}")
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            [_cell(column, row.get(column)) for column in self.columns])
        self._check_header()
        try:
            with open(self.path, "a", encoding="utf-8", newline="") as handle:
                if handle.tell() == 0:
                    handle.write(self._header_line())
                handle.write(buffer.getvalue())
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            raise WriteError.from_os_error(self.path, err) from None

    def truncate_after(self, step):
        """Drop the rows logged after ``step``, and a last line that a crash cut short.

        A run resumed from its checkpoint of ``step`` evaluates the later steps again: their
        old rows go first, so the log holds each evaluation once.  The file is rewritten
        atomically, and only when something is dropped.

        Parameters
        ----------
        step : int
            The step of the checkpoint resumed from.

        Returns
        -------
        int
            The number of lines dropped.

        Raises
        ------
        RnnlabError
            If the file is unreadable or a complete row is malformed (see :func:`read_metrics`).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> tmp = tempfile.TemporaryDirectory()
        >>> log = MetricsLog(pathlib.Path(tmp.name) / "metrics.csv", ["step", "val_loss"])
        >>> for step in (100, 200, 300):
        ...     log.append({"step": step, "val_loss": 1.0})
        >>> with open(log.path, "a") as handle:
        ...     _ = handle.write("400,0.")  # a kill in mid-write
        >>> log.truncate_after(200)
        2
        >>> [row["step"] for row in log.read()]
        [100.0, 200.0]
        >>> tmp.cleanup()
        """
        if not self.path.exists():
            return 0
        self._check_header()
        lines = _read_text(self.path).splitlines(keepends=True)
        complete = lines if not lines or lines[-1].endswith("\n") else lines[:-1]
        rows = _parse(self.path, "".join(complete))
        kept = complete[:1] + [line for line, row in zip(complete[1:], rows)
                               if row.get("step") is not None and row["step"] <= step]
        if len(kept) != len(lines):
            atomic_write_text(self.path, "".join(kept))
        return len(lines) - len(kept)

    def read(self):
        """Return the rows logged so far (see :func:`read_metrics`); ``[]`` before the first.

        Returns
        -------
        list of dict
            ``{column: float or None}`` per row.
        """
        if not self.path.exists():
            return []
        return read_metrics(self.path)

    def __repr__(self):
        return f"MetricsLog({str(self.path)!r}, {list(self.columns)!r})"
