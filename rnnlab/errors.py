"""The exception types rnnlab raises for bad input.

Every user-facing failure is one of these, with a one-line message that names the file, field or
value at fault and what was expected.  :class:`Terminated` is not an error: it is how a command
process that received SIGTERM stops (see :func:`rnnlab.commands.cli.raise_on_sigterm`).
"""

__all__ = ["RnnlabError", "ConfigError", "DataError", "BackendError", "CheckpointError",
           "WriteError", "Terminated"]


class RnnlabError(Exception):
    """Base class of every error rnnlab raises for bad input or an unusable environment.

    Examples
    --------
    >>> try:
    ...     raise DataError("air.csv: column 'pasengers' not found")
    ... except RnnlabError as err:
    ...     print(err)
    air.csv: column 'pasengers' not found
    """


class ConfigError(RnnlabError, ValueError):
    """A configuration key, type or value is invalid.

    Also a ``ValueError``, so callers that only know Python's built-in errors still catch it.

    Examples
    --------
    >>> from rnnlab import config
    >>> try:
    ...     config.load(None, ["model.hiden=4"], check_files=False)
    ... except ConfigError as err:
    ...     print(isinstance(err, ValueError), err)
    True command line (model.hiden=4): unknown key 'model.hiden' (did you mean 'model.hidden'?)
    """


class DataError(RnnlabError, ValueError):
    """A data file or array cannot be used as asked (missing column, bad cell, too short, ...).

    Examples
    --------
    >>> from rnnlab.datasets.text import Vocabulary
    >>> Vocabulary("ab").encode("abc")
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: character 'c' (U+0063) at position 2 is not in the vocabulary ...
    """


class BackendError(RnnlabError, RuntimeError):
    """The requested device or compile mode is not usable on this machine.

    Raised before any setting changes, so the backend stays as it was configured.

    Examples
    --------
    >>> from rnnlab import backend
    >>> backend.configure(device="tpu")
    Traceback (most recent call last):
    ...
    rnnlab.errors.BackendError: device 'tpu' (from argument) is not one of cpu, gpu
    """


class CheckpointError(RnnlabError, ValueError):
    """A checkpoint file is unreadable or does not match the model it is loaded into.

    Examples
    --------
    >>> from rnnlab.run.checkpoint import load_checkpoint
    >>> load_checkpoint("no/such/checkpoint")
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: no/such/checkpoint.json: checkpoint metadata not found; ...
    """


class WriteError(RnnlabError, OSError):
    """A file could not be written (disk full, permission denied, folder removed, ...).

    Also an ``OSError`` carrying the original ``errno``; the message names the path and the
    operating system's reason.  The file written through :func:`rnnlab.files.atomic_writer` keeps
    its previous content.

    Examples
    --------
    >>> import errno
    >>> from rnnlab.files import atomic_write_text
    >>> try:
    ...     atomic_write_text("/dev/null/notes.txt", "x")  # /dev/null is not a folder
    ... except WriteError as err:
    ...     print(isinstance(err, OSError), err.errno == errno.EEXIST, err)
    True True /dev/null/notes.txt: cannot write (File exists); ...
    """

    @classmethod
    def from_os_error(cls, path, error, action="cannot write"):
        """The WriteError for an ``OSError`` met while writing ``path``.

        Parameters
        ----------
        path : str or os.PathLike
            The file or folder being written.
        error : OSError
            What the operating system said; its ``errno`` is kept.
        action : str
            What failed, e.g. ``"cannot create the run directory"``.

        Returns
        -------
        WriteError

        Examples
        --------
        >>> import errno, os
        >>> err = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        >>> print(WriteError.from_os_error("runs/x/checkpoints/latest.npz", err))
        runs/x/checkpoints/latest.npz: cannot write (No space left on device); expected a \
writable folder with free space (files written before are kept)
        """
        reason = error.strerror or str(error) or type(error).__name__
        made = cls(f"{path}: {action} ({reason}); expected a writable folder with free space "
                   f"(files written before are kept)")
        made.errno, made.strerror, made.filename = error.errno, error.strerror, str(path)
        return made

    def __str__(self):
        # OSError would show "[Errno 28] ..." once errno is set: keep the one-line message.
        return str(self.args[0]) if self.args else ""


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM (a scheduler, ``timeout`` or Dask stopping it).

    Raised in the main thread by the handler that :func:`rnnlab.commands.cli.raise_on_sigterm`
    installs in a command process; never by a library module on its own.  A subclass of
    ``KeyboardInterrupt``, so whatever cleans up after Ctrl-C cleans up after SIGTERM too (the
    training loop records ``stop_reason: "terminated"`` instead of ``"interrupted"``); the command
    runner exits with code 143 (128 + SIGTERM).

    Examples
    --------
    >>> try:
    ...     raise Terminated("SIGTERM")
    ... except KeyboardInterrupt as stop:
    ...     print(type(stop).__name__, isinstance(stop, RnnlabError))
    Terminated False
    """
