"""Checking a config: types, choices, sizes and paths, with one-line "did you mean" errors.

:func:`validate` checks the values themselves (types, choices, sizes, fractions) and needs no
file, so it can check any dict; :func:`check_paths` checks that ``data.path`` names existing data
(:func:`data_files`: a file, or for text a folder's files or a glob pattern's).  The helpers here (:func:`coerce`, :func:`bad_value_error`, :func:`unknown_key_error`) build every :class:`~rnnlab.errors.ConfigError` of
:mod:`rnnlab.config`: one line naming the file (or the command line), the key as
``section.key``, the value and what was expected, with a hint for misspelt sections, keys and
choices.
"""

import difflib
import glob
import math
import os
from pathlib import Path

from rnnlab.config.schema import CHOICES, DEFAULTS, RULES, TYPE_NAMES
from rnnlab.errors import ConfigError

__all__ = ["check_value", "check_paths", "data_files", "coerce", "bad_value_error",
           "unknown_key_error", "source_prefix", "source_of"]


def source_prefix(source):
    """The start of an error message that names where a value came from.

    Parameters
    ----------
    source : str or None
        A file name or ``"command line"``; None or ``""`` for none.

    Returns
    -------
    str
        ``"<source>: "``, or ``""``.

    Examples
    --------
    >>> source_prefix("run.toml"), source_prefix(None)
    ('run.toml: ', '')
    """
    return f"{source}: " if source else ""


def _suggest_key(section, key):
    """The ``section.key`` closest to a misspelt or misplaced one, or None."""
    if section is not None and section not in DEFAULTS:
        close = difflib.get_close_matches(section, list(DEFAULTS), n=1)
        section = close[0] if close else None
        if section is not None and key in DEFAULTS[section]:
            return f"{section}.{key}"
    owners = {}
    for name, keys in DEFAULTS.items():
        for other in keys:
            owners.setdefault(other, f"{name}.{other}")
    if key in owners:  # the right key in the wrong section
        return owners[key]
    if section is not None:
        close = difflib.get_close_matches(key, list(DEFAULTS[section]), n=1)
        if close:
            return f"{section}.{close[0]}"
    close = difflib.get_close_matches(key, list(owners), n=1)
    return owners[close[0]] if close else None


def unknown_key_error(section, key, source):
    """The one-line error for an unknown section or key, with a "did you mean" hint.

    Parameters
    ----------
    section : str or None
        The section given (None for a bare key).
        ``key`` None means ``section`` itself is unknown.
    key : str or None
        The key given.
    source : str or None
        Where it came from (see :func:`source_prefix`).

    Returns
    -------
    rnnlab.errors.ConfigError

    Examples
    --------
    >>> print(unknown_key_error("model", "hiden", "run.toml"))
    run.toml: unknown key 'model.hiden' (did you mean 'model.hidden'?)
    """
    name = f"{section}.{key}" if section is not None else key
    if section is not None and section not in DEFAULTS and key is None:
        close = difflib.get_close_matches(section, list(DEFAULTS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return ConfigError(f"{source_prefix(source)}unknown section '{section}'{hint}; expected one of "
                           f"{', '.join(DEFAULTS)}")
    suggestion = _suggest_key(section, key)
    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
    where = "" if section is not None else "; keys belong to a section, as section.key"
    if not suggestion and section in DEFAULTS:
        where = f"; [{section}] has {', '.join(DEFAULTS[section])}"
    return ConfigError(f"{source_prefix(source)}unknown key '{name}'{hint}{where}")


def _expected(dotted):
    section, key = dotted.split(".")
    if dotted in CHOICES:
        return "one of " + ", ".join(repr(c) for c in CHOICES[dotted])
    if dotted in RULES:
        return RULES[dotted][1]
    return TYPE_NAMES[type(DEFAULTS[section][key][0])]


def bad_value_error(dotted, value, source, expected=None, hint=""):
    """The one-line error for a value of ``section.key`` that is not what the key takes.

    Parameters
    ----------
    dotted : str
        The key, as ``section.key``.
    value : object
        The value given.
    source : str or None
        Where it came from (see :func:`source_prefix`).
    expected : str, optional
        What the key takes; by default from its choices, its rule or its default's type.
    hint : str
        Appended to the message.

    Returns
    -------
    rnnlab.errors.ConfigError

    Examples
    --------
    >>> print(bad_value_error("model.cell", "rnn", None))
    model.cell = 'rnn': expected one of 'elman', 'lstm', 'gru'
    """
    error = ConfigError(f"{source_prefix(source)}{dotted} = {value!r}: expected "
                        f"{expected or _expected(dotted)}{hint}")
    error.key = dotted
    return error


def coerce(dotted, value, source):
    """Check ``value``'s type against the default's, converting int -> float and tuple -> list.

    A string given for a list key is read as the command line reads it: comma-separated names.

    Parameters
    ----------
    dotted : str
        The key, as ``section.key``.
    value : object
        The value given.
    source : str or None
        Where it came from, for the error (see :func:`source_prefix`).

    Returns
    -------
    object
        ``value`` as the key's type.

    Raises
    ------
    rnnlab.errors.ConfigError
        Of another type, or a float that is not finite.

    Examples
    --------
    >>> coerce("train.lr", 1, None)
    1.0
    >>> coerce("model.hidden", "8", "cli")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: cli: model.hidden = '8': expected an integer
    >>> coerce("data.target", "sales", None), coerce("data.target", "a, b", None)
    (['sales'], ['a', 'b'])
    """
    section, key = dotted.split(".")
    kind = type(DEFAULTS[section][key][0])
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            value = float(value)
            if not math.isfinite(value):
                raise bad_value_error(dotted, value, source, "a finite number")
    elif kind is list:
        if isinstance(value, str):  # target = "y" in a TOML file: a list of one (or of a,b)
            value = [item.strip() for item in value.split(",") if item.strip()]
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = list(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise bad_value_error(dotted, value, source, TYPE_NAMES[kind])
    return value


def source_of(sources, dotted):
    """Where the value of ``dotted`` came from, given a ``sources`` argument.

    Parameters
    ----------
    sources : str, dict or None
        One name for all values, or ``{"section.key": name}`` with ``None`` for the rest.
    dotted : str or None
        The key, as ``section.key``; None asks for the source of the whole config.

    Returns
    -------
    str or None

    Examples
    --------
    >>> source_of({"model.cell": "cli", None: "run.toml"}, "model.cell")
    'cli'
    >>> source_of({"model.cell": "cli", None: "run.toml"}, "train.lr"), source_of("a.toml", None)
    ('run.toml', 'a.toml')
    """
    if isinstance(sources, dict):
        return sources.get(dotted, sources.get(None))
    return sources


def check_value(dotted, value, source=None):
    """Check one value of ``section.key``: its type (:func:`coerce`), choice and range.

    This is the one check of a value: the records of :mod:`rnnlab.config.records` run it when
    they are made.

    Parameters
    ----------
    dotted : str
        The key, as ``section.key``.
    value : object
        The value given.
    source : str or None
        Where it came from, for the error (see :func:`source_prefix`).

    Returns
    -------
    object
        ``value`` as the key's type.

    Raises
    ------
    rnnlab.errors.ConfigError
        Naming the key, the value and what was expected, with a "did you mean" hint for a
        misspelt choice.

    Examples
    --------
    >>> check_value("model.cell", "gru")
    'gru'
    >>> check_value("model.cell", "GRU", "run.toml")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: run.toml: model.cell = 'GRU': expected one of 'elman', 'lstm', 'gru' (did you mean 'gru'?)
    """
    value = coerce(dotted, value, source)
    if dotted in CHOICES and value not in CHOICES[dotted]:
        close = difflib.get_close_matches(str(value).lower(), [str(c).lower() for c in
                                          CHOICES[dotted]], n=1)
        hint = ""
        if close:
            match = next(c for c in CHOICES[dotted] if str(c).lower() == close[0])
            hint = f" (did you mean {match!r}?)"
        raise bad_value_error(dotted, value, source, hint=hint)
    if dotted in RULES and not RULES[dotted][0](value):
        raise bad_value_error(dotted, value, source)
    return value


def _walk(folder):
    """The regular files below ``folder``, hidden files and folders left out (and not walked)."""
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            if not name.startswith("."):
                yield Path(root) / name


def _once_each(files, exclude):
    """Regular files in path order, each file once (a symlink or a repeated match is the same
    file), none inside an ``exclude`` folder."""
    excluded = [Path(folder).expanduser().resolve() for folder in exclude]
    seen, kept = set(), []
    for file in sorted(files, key=lambda p: p.as_posix()):
        try:
            if not file.is_file():
                continue
            stat = file.stat()
        except OSError:
            continue
        real = file.resolve()
        if (stat.st_dev, stat.st_ino) in seen or any(real.is_relative_to(f) for f in excluded):
            continue
        seen.add((stat.st_dev, stat.st_ino))
        kept.append(file)
    return kept


def data_files(path, exclude=()):
    """The files a ``data.path`` names, in path order: itself, a folder's files, or a pattern's.

    Parameters
    ----------
    path : str or os.PathLike
        A file; a folder (every regular file below it, recursively, except hidden files and
        hidden folders; symbolic links to files are followed, to folders not); or a glob pattern
        (``*``, ``?``, ``[...]``; ``**`` matches folders recursively), whose matching regular
        files are taken.  ``~`` is expanded.
    exclude : sequence of str or os.PathLike
        Folders whose files are left out (a run folder inside the data folder: ``run.dir``).

    Returns
    -------
    list of pathlib.Path
        Sorted by path (as POSIX strings), each file once (two paths to one file, by a link or
        a pattern matching it twice, give the first); empty when nothing matches.  FIFOs,
        devices and sockets are never included.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.txt", "a.txt", "sub/c.txt", ".hidden/d.txt", "sub/.e.txt", "runs/r.txt"):
    ...     (tmp / name).parent.mkdir(exist_ok=True)
    ...     _ = (tmp / name).write_text("x")
    >>> (tmp / "same.txt").symlink_to(tmp / "sub" / "c.txt")
    >>> [p.relative_to(tmp).as_posix() for p in data_files(tmp, exclude=[tmp / "runs"])]
    ['a.txt', 'b.txt', 'same.txt']
    >>> [p.relative_to(tmp).as_posix() for p in data_files(tmp / "**" / "*.txt")]
    ['a.txt', 'b.txt', 'runs/r.txt', 'same.txt']
    >>> data_files(tmp / "a.txt") == [tmp / "a.txt"], data_files(tmp / "missing.txt")
    (True, [])
    """
    resolved = Path(path).expanduser()
    if resolved.is_file():
        return [resolved]
    if resolved.is_dir():
        return _once_each(_walk(resolved), exclude)
    pattern = os.path.expanduser(os.fspath(path))
    if not any(c in pattern for c in "*?["):
        return []
    return _once_each(map(Path, glob.iglob(pattern, recursive=True)), exclude)


def check_paths(cfg, sources=None):
    """Check that the data a validated config names exists (see :func:`data_files`).

    Series data is one file; text may be a file, a folder or a glob pattern with at least one
    file.

    Parameters
    ----------
    cfg : dict
        A checked config (:class:`rnnlab.config.Config`).
    sources : str or dict, optional
        Where the path came from (see :func:`source_of`).

    Raises
    ------
    ConfigError
        If ``data.path`` is empty or names no data; the message names the path as given, the
        directory it was resolved against, and a similarly named file if there is one.

    Examples
    --------
    >>> from rnnlab.config import Config
    >>> check_paths(Config().replace(data={"path": "data/shakespear.txt"}), "lstm.toml")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: lstm.toml: data.path = 'data/shakespear.txt': file not found...
    >>> check_paths(Config().replace(data={"path": "data/*.txt"}))         # text: a pattern
    """
    path = cfg.data.path
    source = source_of(sources, "data.path")
    if not path:
        raise bad_value_error("data.path", path, source, "the data file to train on (set data.path "
                         "in the config or as data.path=FILE)")
    resolved = Path(path).expanduser()
    if resolved.is_file():
        return
    where = f"relative to {Path.cwd()}"
    if cfg.data.kind == "series":
        if resolved.exists() or any(c in path for c in "*?["):
            raise bad_value_error("data.path", path, source, "a file, not a directory or a "
                                  "pattern (series data is one CSV file)")
    elif resolved.is_dir():
        if data_files(resolved, exclude=[cfg.run.dir]):
            return
        raise ConfigError(f"{source_prefix(source)}data.path = {path!r}: the folder holds no "
                          f"file (hidden ones are skipped); expected text files ({where})")
    elif any(c in path for c in "*?["):
        if data_files(path, exclude=[cfg.run.dir]):
            return
        raise ConfigError(f"{source_prefix(source)}data.path = {path!r}: no file matches the "
                          f"pattern; expected at least one ({where})")
    if resolved.exists():
        raise bad_value_error("data.path", path, source, "a regular file (not a FIFO, device or "
                              "socket)")
    hint = ""
    folder = resolved.parent
    if folder.is_dir():
        close = difflib.get_close_matches(resolved.name, [p.name for p in folder.iterdir()], n=1)
        hint = f" (did you mean '{folder / close[0]}'?)" if close else ""
    raise ConfigError(f"{source_prefix(source)}data.path = {path!r}: file not found; expected an "
                      f"existing file ({where}){hint}")
