"""The run directory's layout and its files, in one place.

::

    RUN/
      config.json             the resolved config (written at the start, again on --resume)
      meta.json               what rebuilding the model needs: vocabulary or scaler, n_params
      metrics.csv             one row per evaluation (rnnlab.run.metrics_log)
      summary.json            how the run ended (written at the end, or when interrupted)
      traceback.txt           only after a bug stopped training: its traceback, for a report
      checkpoints/            best.npz + best.json, latest.npz + latest.json (rnnlab.run.checkpoint)
      plots/                  learning curves, redrawn at each evaluation
      samples/                text runs: step_000100.txt, ... (a sample at each evaluation)
      forecast/               python -m rnnlab.forecast's output
      .lock                   held by the process that trains the run (RunDir.lock): its pid

One process writes a run at a time: training holds an advisory lock (``flock``) on ``.lock`` from
before its first write to its last, and a second trainer fails at once, naming the holder.  The
kernel releases the lock when the process ends, however it ends (``kill -9`` included), so a lock
is never stale; the file itself stays, with the last holder's pid.
"""

import contextlib
import fcntl
import json
import os
import time
import traceback
from pathlib import Path

from rnnlab import config
from rnnlab.errors import CheckpointError, ConfigError, DataError, RnnlabError, WriteError
from rnnlab.files import atomic_write_text, create_run_dir, read_json, write_json
from rnnlab.run.checkpoint import checkpoint_paths

__all__ = ["RunDir", "CHECKPOINTS"]

#: The checkpoints a run keeps: the best validation loss so far, and the last evaluation.
CHECKPOINTS = ("best", "latest")
_CONFIG, _META, _SUMMARY, _METRICS = "config.json", "meta.json", "summary.json", "metrics.csv"
_TRACEBACK = "traceback.txt"
_CHECKPOINTS, _PLOTS, _SAMPLES, _FORECAST = "checkpoints", "plots", "samples", "forecast"
_LOCK = ".lock"
#: How long to wait for a new holder of the lock to write its pid into the lock file.
_PID_WAIT = 1.0


class RunDir:
    """One run directory: the paths of its files, their readers and writers, and its checks.

    Parameters
    ----------
    path : str or os.PathLike
        The directory (it need not exist; :meth:`check` says whether it is a run).

    Attributes
    ----------
    path : pathlib.Path
    config_file, meta_file, summary_file, metrics_file, lock_file : pathlib.Path
        ``config.json``, ``meta.json``, ``summary.json``, ``metrics.csv``, ``.lock``.
    plots_dir, samples_dir, forecast_dir : pathlib.Path

    Examples
    --------
    >>> run = RunDir("runs/lstm-s0")
    >>> run.meta_file.as_posix(), run.checkpoint("best").as_posix()
    ('runs/lstm-s0/meta.json', 'runs/lstm-s0/checkpoints/best')
    >>> run.check()
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: runs/lstm-s0: no such run directory
    """

    def __init__(self, path):
        self.path = Path(path)
        self.config_file = self.path / _CONFIG
        self.meta_file = self.path / _META
        self.summary_file = self.path / _SUMMARY
        self.metrics_file = self.path / _METRICS
        self.lock_file = self.path / _LOCK
        self.plots_dir = self.path / _PLOTS
        self.samples_dir = self.path / _SAMPLES
        self.forecast_dir = self.path / _FORECAST

    @classmethod
    def create(cls, root, name):
        """A new, empty run directory ``root/name`` (``name-2``, ... if taken; see
        :func:`rnnlab.files.create_run_dir`)."""
        return cls(create_run_dir(root, name))

    def __fspath__(self):
        return str(self.path)

    def __str__(self):
        return str(self.path)

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"

    @staticmethod
    def checkpoint_name(which):
        """``which``'s checkpoint relative to the run: ``'checkpoints/best'`` (no suffix).

        Raises
        ------
        ValueError
            For a ``which`` not in :data:`CHECKPOINTS`.
        """
        if which not in CHECKPOINTS:
            raise ValueError(f"which={which!r}: expected one of {', '.join(CHECKPOINTS)}")
        return f"{_CHECKPOINTS}/{which}"

    def checkpoint(self, which):
        """The path stem of checkpoint ``which`` (``'best'`` or ``'latest'``), without suffix."""
        return self.path / self.checkpoint_name(which)

    def check(self, finished=False):
        """Raise a one-line :class:`~rnnlab.errors.RnnlabError` unless this is a run directory.

        Parameters
        ----------
        finished : bool
            Also require ``summary.json`` (the run ended).

        Returns
        -------
        RunDir
            ``self``.
        """
        try:
            found = self.path.is_dir()
        except OSError as err:  # a name the system rejects: too long, a loop of links, ...
            raise RnnlabError(f"{self.path}: no such run directory ({err.strerror})") from None
        if not found:
            raise RnnlabError(f"{self.path}: no such run directory")
        if not self.config_file.is_file():
            raise RnnlabError(f"{self.path}: not a run directory (no {_CONFIG})")
        if finished and not self.summary_file.is_file():
            raise RnnlabError(f"{self.path}: not a finished run (no {_SUMMARY})")
        return self

    def check_checkpoint(self, which):
        """Raise :class:`~rnnlab.errors.CheckpointError` unless checkpoint ``which`` was committed
        (its JSON file is written last, see :mod:`rnnlab.run.checkpoint`); return its path stem."""
        stem = self.checkpoint(which)
        if not checkpoint_paths(stem)[1].is_file():
            raise CheckpointError(f"{self.path}: no {which!r} checkpoint in "
                                  f"{self.path / _CHECKPOINTS}; expected {which}.npz and "
                                  f"{which}.json (it is written at the first evaluation)")
        return stem

    def check_kind(self, expected):
        """Raise :class:`~rnnlab.errors.DataError` unless the run's ``data.kind`` is ``expected``
        (``'text'`` runs are sampled, ``'series'`` runs forecast); return ``config.json`` as
        saved (a dict, its values unchecked)."""
        saved = self.read_config()
        data = saved.get("data")
        if not isinstance(data, dict):
            raise ConfigError(f"{self.config_file}: 'data' is {json.dumps(data):.40}; expected "
                              f"the [data] section rnnlab.train wrote")
        kind = data.get("kind")
        if kind != expected:
            command, other = ("sample", "forecast") if expected == "text" else ("forecast",
                                                                                 "sample")
            raise DataError(f"{self.path}: {command} needs a {expected} run; this run has "
                            f"data.kind={kind!r} (use python -m rnnlab.{other})")
        return saved

    @contextlib.contextmanager
    def lock(self):
        """Hold the run's writer lock for the ``with`` block: one process writes a run at a time.

        Takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on ``.lock`` in the run directory (created if
        missing) and writes this process's id into it.  The kernel releases the lock when the
        block ends or the process dies, however it dies, so it never goes stale.  The lock is
        advisory: it keeps out other trainers, which take it before they write anything.

        Yields
        ------
        RunDir
            ``self``.

        Raises
        ------
        RnnlabError
            ``run directory RUN is being written by process PID (lock file RUN/.lock)`` when
            another process (or another ``lock()`` block) holds it; nothing was written.
        WriteError
            If the lock file cannot be created or written.

        Examples
        --------
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> run = RunDir(tmp.name)
        >>> with run.lock():
        ...     print(int(run.lock_file.read_text()) == os.getpid())
        True
        >>> with run.lock(), run.lock():  # a second writer, here in the same process
        ...     pass
        Traceback (most recent call last):
        ...
        rnnlab.errors.RnnlabError: run directory ... is being written by process ... (lock ...
        >>> with run.lock():      # released when the block ended
        ...     pass
        >>> tmp.cleanup()
        """
        try:
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise WriteError.from_os_error(self.lock_file, err, "cannot create the lock file"
                                           ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RnnlabError(f"run directory {self.path} is being written by process "
                                  f"{_holder(fd)} (lock file {self.lock_file})") from None
            except OSError as err:
                raise WriteError.from_os_error(self.lock_file, err, "cannot lock") from None
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            except OSError as err:
                raise WriteError.from_os_error(self.lock_file, err) from None
            yield self
        finally:
            os.close(fd)  # releases the lock

    def finished(self):
        """Whether the run has ended (it has a ``summary.json``)."""
        return self.summary_file.is_file()

    def read_config(self):
        """``config.json`` as saved, a dict, without checking its values."""
        return read_json(self.config_file, expect=dict)

    def load_config(self, overrides=(), check_files=False):
        """``config.json`` checked and resolved (:func:`rnnlab.config.load`), with overrides.

        The ``[model]`` section must be whole: a default in place of a missing key would build
        another network than the one trained.
        """
        return config.load(self.config_file, list(overrides), check_files=check_files,
                           whole=("model",))

    def save_config(self, cfg):
        """Write ``config.json`` (:func:`rnnlab.config.save_resolved`, atomically)."""
        config.save_resolved(cfg, self.config_file)

    def read_meta(self):
        """``meta.json``, a dict."""
        return read_json(self.meta_file, expect=dict)

    def write_meta(self, meta):
        """Write ``meta.json`` atomically."""
        write_json(self.meta_file, meta)

    def read_summary(self):
        """``summary.json``, a dict."""
        return read_json(self.summary_file, expect=dict)

    def write_summary(self, summary):
        """Write ``summary.json`` atomically."""
        write_json(self.summary_file, summary)

    def write_traceback(self, error):
        """Write ``traceback.txt`` (atomically): the traceback of ``error``, a bug that stopped
        training, so that it is never lost; return its path.

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> try:
        ...     {}["x"]
        ... except KeyError as err:
        ...     path = RunDir(tmp.name).write_traceback(err)
        >>> path.name, path.read_text().splitlines()[-1]
        ('traceback.txt', "KeyError: 'x'")
        >>> tmp.cleanup()
        """
        path = self.path / _TRACEBACK
        atomic_write_text(path, "".join(traceback.format_exception(error)), errors="replace")
        return path


def _holder(fd):
    """The pid written in the lock file ``fd`` by its holder (which may be about to write it)."""
    deadline = time.monotonic() + _PID_WAIT
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
        if text.isdigit() or time.monotonic() > deadline:
            return text if text.isdigit() else "(unknown: no pid in the lock file)"
        time.sleep(0.02)
