"""Crash-safe files: atomic writes, safe JSON reading, and folders that are never reused.

A run directory is never reused: :func:`create_run_dir` appends ``-2``, ``-3``, ... to a name
that exists.  Every file a run writes goes through :func:`atomic_writer` (a temporary file in the
same directory, flushed, fsync'ed, then ``os.replace``'d over the target and the directory
fsync'ed), so a crash leaves either the old file or the new one, never half of one.
:class:`rnnlab.run.metrics_log.MetricsLog` writes the metrics log with these functions.

The layout of a run directory, and the only code that knows it, is
:class:`rnnlab.run.RunDir`.
"""

import contextlib
import json
import os
import secrets
from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError, WriteError

__all__ = ["create_run_dir", "atomic_writer", "atomic_write_bytes", "atomic_write_text",
           "atomic_write_json", "write_json", "read_json", "replace_file",
           "remove_stale_temporaries"]

_MAX_SUFFIX = 10_000


def _check_name(name):
    if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"name={name!r}: expected a non-empty directory name without path "
                         f"separators")


def create_run_dir(root, name):
    """Create a new, empty run directory ``root/name``, never reusing an existing one.

    Parameters
    ----------
    root : str or os.PathLike
        The folder holding the runs; created (with its parents) when missing.
    name : str
        The run's name.  When ``root/name`` exists, ``name-2``, ``name-3``, ... are tried in turn;
        each attempt is an atomic ``os.mkdir``, so concurrent processes never share a directory.

    Returns
    -------
    pathlib.Path
        The directory created.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> [create_run_dir(tmp.name, "lstm-s0").name for _ in range(3)]
    ['lstm-s0', 'lstm-s0-2', 'lstm-s0-3']
    >>> tmp.cleanup()
    """
    _check_name(name)
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError.from_os_error(root, err, "cannot create the folder of runs") from None
    for index in range(1, _MAX_SUFFIX + 1):
        candidate = root / (name if index == 1 else f"{name}-{index}")
        try:
            os.mkdir(candidate)
        except FileExistsError:
            continue
        except OSError as err:
            raise WriteError.from_os_error(candidate, err,
                                           "cannot create the run directory") from None
        return candidate
    raise RnnlabError(f"{root / name}: {_MAX_SUFFIX} run directories of that name exist; "
                      f"expected a free name (choose another run.name)")


def _fsync_directory(directory):
    if os.name != "posix":  # directories cannot be opened for fsync elsewhere
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path, replace=True):
    """Open a binary file that replaces ``path`` atomically when the ``with`` block succeeds.

    The data goes to a temporary file ``.<name>.<pid>.<random>.tmp`` in the same directory
    (created with the usual permissions); on leaving the block it is flushed, fsync'ed and
    ``os.replace``'d over ``path``, then the directory is fsync'ed.  If the block or any of
    those steps fails, the temporary file is removed and ``path`` is left untouched; an
    ``OSError`` (disk full, permission denied, folder removed) becomes a
    :class:`~rnnlab.errors.WriteError` naming ``path`` and the reason.  Missing parent
    directories are created.  A process killed mid-write leaves its temporary file behind (see
    :func:`remove_stale_temporaries`), never a partial ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    replace : bool
        ``False``: never replace an existing ``path``, not even one created while the block ran;
        the finished file is hard-linked to ``path`` (which fails if it exists: a
        :class:`~rnnlab.errors.WriteError` saying so, ``path`` untouched) instead of renamed.

    Yields
    ------
    file object
        A binary file opened for writing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "arrays.npz"
    >>> with atomic_writer(path) as handle:
    ...     np.savez(handle, w=np.zeros((2, 3)))
    >>> np.load(path)["w"].shape
    (2, 3)
    >>> with atomic_writer(path, replace=False) as handle:
    ...     _ = handle.write(b"not arrays")
    Traceback (most recent call last):
    rnnlab.errors.WriteError: ...arrays.npz: cannot write: it exists (expected a new file)
    >>> np.load(path)["w"].shape
    (2, 3)
    >>> tmp.cleanup()
    """
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        raise WriteError.from_os_error(path, err) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp, path)
        else:
            _link_new(temp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise WriteError.from_os_error(path, err) from None
        raise
    try:
        _fsync_directory(path.parent)
    except OSError as err:
        raise WriteError.from_os_error(path, err) from None


def _link_new(temp, path):
    try:
        os.link(temp, path)
    except FileExistsError:
        raise WriteError(f"{path}: cannot write: it exists (expected a new file)") from None
    os.unlink(temp)


def replace_file(source, path):
    """Rename ``source`` over ``path`` atomically and fsync the folder (both in one folder).

    Parameters
    ----------
    source : str or os.PathLike
        A complete file, e.g. written by :func:`atomic_writer`.
    path : str or os.PathLike
        Its new name; an existing file of that name is replaced in one step.

    Raises
    ------
    WriteError
        Naming ``path`` and the reason; both files are then as they were.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> new, old = pathlib.Path(tmp.name) / "best.next.npz", pathlib.Path(tmp.name) / "best.npz"
    >>> atomic_write_bytes(new, b"new"); atomic_write_bytes(old, b"old")
    >>> replace_file(new, old)
    >>> old.read_bytes(), new.exists()
    (b'new', False)
    >>> tmp.cleanup()
    """
    path = Path(path)
    try:
        os.replace(source, path)
        _fsync_directory(path.parent)
    except OSError as err:
        raise WriteError.from_os_error(path, err) from None


def remove_stale_temporaries(folder):
    """Delete the temporary files of :func:`atomic_writer` left by processes that were killed.

    A temporary file is stale when the process whose id is in its name no longer runs; files of
    running processes, and every other file, are kept.

    Parameters
    ----------
    folder : str or os.PathLike
        Searched with its subfolders (a run directory).

    Returns
    -------
    list of pathlib.Path
        The files removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> _ = (folder / ".latest.npz.999999999.0a1b2c3d.tmp").write_bytes(b"half a checkpoint")
    >>> _ = (folder / f".plot.png.{os.getpid()}.0a1b2c3d.tmp").write_bytes(b"being written")
    >>> [path.name for path in remove_stale_temporaries(folder)]
    ['.latest.npz.999999999.0a1b2c3d.tmp']
    >>> sorted(path.name for path in folder.iterdir())
    ['.plot.png....tmp']
    >>> tmp.cleanup()
    """
    removed = []
    for path in sorted(Path(folder).rglob(".*.tmp")):
        parts = path.name.split(".")
        if len(parts) < 5 or not parts[-3].isdigit() or not path.is_file():
            continue
        if _process_exists(int(parts[-3])):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _process_exists(pid):
    if os.name != "posix":
        return True  # cannot tell: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def atomic_write_bytes(path, data, replace=True):
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)write.
    data : bytes
        Its new content.
    replace : bool
        ``False``: refuse an existing ``path`` (see :func:`atomic_writer`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "blob.bin"
    >>> atomic_write_bytes(path, b"\\x00\\x01")
    >>> path.read_bytes()
    b'\\x00\\x01'
    >>> tmp.cleanup()
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: got {type(data).__name__}; expected bytes")
    with atomic_writer(path, replace=replace) as handle:
        handle.write(data)


def atomic_write_text(path, text, errors="strict", replace=True):
    """Write the string ``text`` to ``path`` atomically, UTF-8 encoded, newlines unchanged.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)write.
    text : str
        Its new content.
    errors : str
        How to encode characters UTF-8 cannot hold (lone surrogates), as for ``str.encode``:
        ``"strict"`` raises, ``"backslashreplace"`` writes them as ``\\udxxx``.
    replace : bool
        ``False``: refuse an existing ``path`` (see :func:`atomic_writer`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "samples" / "step_000100.txt"
    >>> atomic_write_text(path, "To be, or not\\n")
    >>> path.read_text(encoding="utf-8")
    'To be, or not\\n'
    >>> tmp.cleanup()
    """
    if not isinstance(text, str):
        raise TypeError(f"text: got {type(text).__name__}; expected str")
    atomic_write_bytes(path, text.encode("utf-8", errors=errors), replace=replace)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} {obj!r:.60} is not JSON serialisable; expected "
                    f"dict, list, str, number, bool, None or a numpy scalar/array")


def atomic_write_json(path, obj, replace=True):
    """Write ``obj`` to ``path`` as indented JSON, atomically.

    numpy scalars and arrays are converted to Python numbers and lists; ``nan`` and ``inf`` are
    written as Python's ``json`` writes them (``NaN``, ``Infinity``) and read back by
    :func:`read_json`.  Nothing is written if ``obj`` cannot be serialised.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)write.
    obj : dict, list, str, int, float, bool or None
        The value to save.
    replace : bool
        ``False``: refuse an existing ``path`` (see :func:`atomic_writer`).

    Raises
    ------
    TypeError
        If ``obj`` holds something JSON cannot represent; the message names the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "result.json"
    >>> atomic_write_json(path, {"best_step": np.int64(300), "val_loss": 1.5})
    >>> read_json(path)
    {'best_step': 300, 'val_loss': 1.5}
    >>> tmp.cleanup()
    """
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only \u escapes represent them
            text = json.dumps(obj, indent=2, default=_json_default)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{path}: cannot write JSON: {err}") from None
    atomic_write_text(path, text + "\n", replace=replace)


#: The name :mod:`rnnlab.config` and the design use for :func:`atomic_write_json`.
write_json = atomic_write_json


def read_json(path, error=RnnlabError, expect=None):
    """Read a JSON file, raising a one-line error that names the file when it cannot.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read (UTF-8).
    error : type, optional
        The :class:`~rnnlab.errors.RnnlabError` subclass to raise (for example
        :class:`~rnnlab.errors.CheckpointError`); :class:`~rnnlab.errors.RnnlabError` by default.
    expect : type, optional
        ``dict`` or ``list``: the type the decoded value must have (a JSON object or array).

    Returns
    -------
    object
        The decoded value.

    Raises
    ------
    RnnlabError
        (or ``error``) if the file is missing, unreadable, not UTF-8, not valid JSON or not of the
        ``expect`` type; the message names the file (and the line and column of a syntax error).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "vocab.json"
    >>> _ = path.write_text('{"vocab": ["a", "b"],}')
    >>> read_json(path)
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: .../vocab.json: invalid JSON at line 1, column 22 ...
    >>> _ = path.write_text('["a", "b"]')
    >>> read_json(path, expect=dict)
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: .../vocab.json: holds a JSON array; expected a JSON object
    >>> tmp.cleanup()
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise error(f"{path}: file not found; expected a JSON file") from None
    except OSError as err:
        raise error(f"{path}: cannot read the file ({err.strerror}); expected a JSON file"
                    ) from None
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise error(f"{path}: byte {err.start} is not valid UTF-8; expected a JSON file") from None
    except json.JSONDecodeError as err:
        raise error(f"{path}: invalid JSON at line {err.lineno}, column {err.colno} "
                    f"({err.msg})") from None
    except ValueError as err:  # Python's limit on the digits of an int, which json lets by
        raise error(f"{path}: invalid JSON: {str(err).split(';')[0]}; expected a JSON file"
                    ) from None
    except RecursionError:
        raise error(f"{path}: invalid JSON: arrays or objects nested too deeply to read; "
                    "expected a JSON file") from None
    if expect is not None and not isinstance(value, expect):
        raise error(f"{path}: holds a JSON {_JSON_NAMES.get(type(value), 'value')}; expected a "
                    f"JSON {_JSON_NAMES[expect]}")
    return value


_JSON_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}
