"""The exception types rnnlab raises for bad input.

Every user-facing failure is one of these, with a one-line message that names the file, field or
value at fault and what was expected.
"""

__all__ = ["RnnlabError", "ConfigError", "DataError", "BackendError", "CheckpointError"]


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
    >>> from rnnlab.checkpoint import load_checkpoint
    >>> load_checkpoint("no/such/checkpoint")
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: no/such/checkpoint.json: checkpoint metadata not found; ...
    """
