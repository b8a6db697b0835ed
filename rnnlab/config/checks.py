"""Checking a config: types, choices, sizes and paths, with one-line "did you mean" errors.

:func:`validate` checks the values themselves (types, choices, sizes, fractions) and needs no
file, so it can check any dict; :func:`check_paths` checks that ``data.path`` names an existing
file.  The helpers here (:func:`coerce`, :func:`bad_value_error`, :func:`unknown_key_error`) build every :class:`~rnnlab.errors.ConfigError` of
:mod:`rnnlab.config`: one line naming the file (or the command line), the key as
``section.key``, the value and what was expected, with a hint for misspelt sections, keys and
choices.
"""

import difflib
import math
from pathlib import Path

from rnnlab.config.schema import CHOICES, DEFAULTS, RULES, TYPE_NAMES
from rnnlab.errors import ConfigError

__all__ = ["validate", "check_paths", "coerce", "bad_value_error", "unknown_key_error",
           "source_prefix"]


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
    return ConfigError(f"{source_prefix(source)}{dotted} = {value!r}: expected "
                       f"{expected or _expected(dotted)}{hint}")


def coerce(dotted, value, source):
    """Check ``value``'s type against the default's, converting int -> float and tuple -> list.

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
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = list(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise bad_value_error(dotted, value, source, TYPE_NAMES[kind])
    return value


def _source_of(sources, dotted):
    if isinstance(sources, dict):
        return sources.get(dotted, sources.get(None))
    return sources


def validate(cfg, sources=None):
    """Check a complete config's structure, types and values; return a normalised copy.

    This checks no file: see :func:`check_paths`.

    Parameters
    ----------
    cfg : dict
        ``{section: {key: value}}`` with exactly the sections and keys of :data:`DEFAULTS`.
    sources : str or dict, optional
        Where the values came from, for error messages: one name (a file) for all, or a dict
        ``{"section.key": name}`` (what :func:`rnnlab.config.load` passes).

    Returns
    -------
    dict
        A new config; int values of float keys become floats, tuples become lists.

    Raises
    ------
    ConfigError
        Naming the source, the key, the value and what was expected.

    Examples
    --------
    >>> from rnnlab.config import defaults
    >>> cfg = defaults()
    >>> cfg["train"]["lr"] = 1
    >>> validate(cfg)["train"]["lr"]
    1.0
    >>> cfg["model"]["layers"] = 4
    >>> validate(cfg, "lstm.toml")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: lstm.toml: model.layers = 4: expected an integer from 1 to 3
    """
    if not isinstance(cfg, dict):
        raise ConfigError(f"{source_prefix(_source_of(sources, None))}config is a "
                          f"{type(cfg).__name__}; expected a dict of sections")
    for section in cfg:
        if section not in DEFAULTS:
            raise unknown_key_error(section, None, _source_of(sources, None))
    out = {}
    for section, keys in DEFAULTS.items():
        values = cfg.get(section)
        if not isinstance(values, dict):
            raise ConfigError(f"{source_prefix(_source_of(sources, None))}section '{section}' is "
                              f"{'missing' if values is None else repr(values)}; expected a "
                              f"table of keys")
        for key in values:
            if key not in keys:
                raise unknown_key_error(section, key, _source_of(sources, f"{section}.{key}"))
        out[section] = {}
        for key in keys:
            dotted = f"{section}.{key}"
            source = _source_of(sources, dotted)
            if key not in values:
                raise ConfigError(f"{source_prefix(source)}missing key '{dotted}'; expected every key "
                                  f"(start from rnnlab.config.defaults())")
            value = coerce(dotted, values[key], source)
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
            out[section][key] = value
    data = out["data"]
    if data["val_fraction"] + data["test_fraction"] >= 1:
        raise ConfigError(f"{source_prefix(_source_of(sources, 'data.test_fraction'))}"
                          f"data.val_fraction + data.test_fraction = {data['val_fraction']!r} + "
                          f"{data['test_fraction']!r}: expected a sum < 1 (data left to train on)")
    if data["kind"] == "series" and not data["target"]:
        raise bad_value_error("data.target", "", _source_of(sources, "data.target"),
                         "the name of the column to forecast (required when data.kind = "
                         "'series')")
    return out


def check_paths(cfg, sources=None):
    """Check that the files a validated config names exist: ``data.path`` must be a file.

    Parameters
    ----------
    cfg : dict
        A config that passed :func:`validate`.
    sources : str or dict, optional
        As for :func:`validate`.

    Raises
    ------
    ConfigError
        If ``data.path`` is empty, missing or not a file; the message names the path as given,
        the directory it was resolved against, and a similarly named file if there is one.

    Examples
    --------
    >>> from rnnlab.config import defaults
    >>> cfg = defaults()
    >>> cfg["data"]["path"] = "data/shakespear.txt"
    >>> check_paths(cfg, "lstm.toml")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: lstm.toml: data.path = 'data/shakespear.txt': file not found...
    """
    path = cfg["data"]["path"]
    source = _source_of(sources, "data.path")
    if not path:
        raise bad_value_error("data.path", path, source, "the data file to train on (set data.path "
                         "in the config or as data.path=FILE)")
    resolved = Path(path).expanduser()
    if resolved.is_file():
        return
    if resolved.exists():
        raise bad_value_error("data.path", path, source, "a file, not a directory")
    hint = ""
    folder = resolved.parent
    if folder.is_dir():
        close = difflib.get_close_matches(resolved.name, [p.name for p in folder.iterdir()], n=1)
        hint = f" (did you mean '{folder / close[0]}'?)" if close else ""
    raise ConfigError(f"{source_prefix(source)}data.path = {path!r}: file not found; expected an "
                      f"existing file (relative to {Path.cwd()}){hint}")

