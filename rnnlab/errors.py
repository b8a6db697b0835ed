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
    """A configuration key, type or value is invalid."""


class DataError(RnnlabError, ValueError):
    """A data file or array cannot be used as asked (missing column, bad cell, too short, ...)."""


class BackendError(RnnlabError, RuntimeError):
    """The requested device or compile mode is not usable on this machine."""


class CheckpointError(RnnlabError, ValueError):
    """A checkpoint file is unreadable or does not match the model it is loaded into."""
