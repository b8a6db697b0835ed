"""Experiment configuration: typed defaults, TOML files, ``section.key=value`` overrides, checks.

A resolved config is a :class:`Config`: typed, frozen records, one per section, each value
checked once when the record is made (``cfg.model.hidden``; :meth:`Config.replace` for a changed
copy).  On disk it is a nested dict ``{section: {key: value}}`` that TOML and JSON hold.
:data:`DEFAULTS` (in :mod:`rnnlab.config.schema`) is its documentation: every key, its default
(whose type is the key's type) and a comment.
A config file (TOML, or a run's saved ``config.json``) only overrides defaults; command-line
overrides (``model.cell=gru train.lr=0.01``) override the file.  :func:`load` does all of it and
then checks the result in two steps:

* :func:`validate` checks the values themselves (types, choices, sizes, fractions) and makes
  the :class:`Config`; it needs no file, so it can check any dict;
* :func:`check_paths` checks that ``data.path`` names existing data (:func:`data_files`: a file,
  or for text a folder's files or a glob pattern's).

This module resolves configs (files, overrides, saving); the defaults block lives in
:mod:`rnnlab.config.schema`, the records in :mod:`rnnlab.config.records` and the checks in
:mod:`rnnlab.config.checks`.  Their public names
are re-exported here, so ``rnnlab.config`` is the one module to import.  The package may import
:mod:`rnnlab.errors`, :mod:`rnnlab.files` and :mod:`rnnlab.backend` (the device choices) only.

Every failure is a :class:`~rnnlab.errors.ConfigError` with one line naming the file (or the
command line), the key as ``section.key``, the value and what was expected, with a "did you
mean" hint for misspelt sections, keys and choices.
"""

import re
import sys
import tomllib
from pathlib import Path

from rnnlab.config.checks import (bad_value_error, check_paths, coerce, data_files,
                                  source_prefix, unknown_key_error)
from rnnlab.config.records import (Config, DataConfig, DeviceConfig, ModelConfig, RunConfig,
                                   TrainConfig, validate)
from rnnlab.config.schema import CHOICES, DEFAULTS, TYPE_NAMES, defaults, describe
from rnnlab.errors import ConfigError
from rnnlab.files import read_json, write_json

__all__ = ["Config", "DataConfig", "ModelConfig", "TrainConfig", "RunConfig", "DeviceConfig",
           "DEFAULTS", "CHOICES", "defaults", "load", "parse_override", "parse_value",
           "validate", "check_paths", "data_files", "describe", "save_resolved",
           "default_run_name"]

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _split_key(dotted, source):
    section, _, key = dotted.rpartition(".")
    if not section:
        raise unknown_key_error(None, dotted, source)
    if section not in DEFAULTS or key not in DEFAULTS[section]:
        raise unknown_key_error(section, key, source)
    return section, key


def parse_value(dotted, text, source="command line"):
    """Parse the text of a value for ``section.key`` by the type of its default.

    Booleans accept true/false, 1/0, yes/no, on/off (any case); lists are comma-separated
    (``""`` is the empty list) or written in brackets, as a TOML list (``["x", "y"]``) or, as a
    shell leaves it once it has removed the quotes, ``[x, y]``; strings are taken as they are.
    Only the type is checked here.

    Parameters
    ----------
    dotted : str
        The key, as ``section.key``.
    text : str
        The value as typed.
    source : str
        Where it came from, for error messages.

    Returns
    -------
    bool, int, float, str or list of str

    Examples
    --------
    >>> parse_value("train.lr", "3e-4"), parse_value("run.progress", "no")
    (0.0003, False)
    >>> parse_value("data.covariates", "temp, humidity")
    ['temp', 'humidity']
    >>> parse_value("data.covariates", '["temp", "rain"]'), parse_value("data.covariates", "[x]")
    (['temp', 'rain'], ['x'])
    >>> parse_value("model.hidden", "1_0")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: command line: model.hidden = '1_0': expected an integer
    """
    section, key = _split_key(dotted, source)
    kind = type(DEFAULTS[section][key][0])
    if kind is str:
        return text
    if kind is list:
        return _parse_list(dotted, text, source)
    word = text.strip()
    if kind is bool:
        if word.lower() in _TRUE + _FALSE:
            return word.lower() in _TRUE
    elif word.isascii() and "_" not in word:  # Python would read "1_0" and "١٢" as numbers
        try:
            number = kind(word)
        except ValueError:
            pass
        else:
            return coerce(dotted, number, source)
    raise bad_value_error(dotted, text, source, TYPE_NAMES[kind])


def _parse_list(dotted, text, source):
    word = text.strip()
    if not (word.startswith("[") and word.endswith("]")):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        items = tomllib.loads(f"value = {word}")["value"]
    except tomllib.TOMLDecodeError:  # [x, y]: the shell removed the quotes
        items = [item.strip() for item in word[1:-1].split(",") if item.strip()]
        if any(c in item for item in items for c in "[]\"'"):
            raise bad_value_error(dotted, text, source, 'a list of strings, as x,y or '
                                  '["x", "y"]') from None
    if not all(isinstance(item, str) for item in items):
        raise bad_value_error(dotted, text, source, 'a list of strings, as x,y or ["x", "y"]')
    return items


def parse_override(text, source="command line"):
    """Parse one ``section.key=value`` override.

    Parameters
    ----------
    text : str
        The override, e.g. ``"model.cell=gru"``; the value is parsed by :func:`parse_value`.
    source : str
        Where it came from, for error messages.

    Returns
    -------
    tuple
        ``(section, key, value)``.

    Raises
    ------
    ConfigError
        For a missing ``=``, an unknown key (with a "did you mean" hint) or a value of the wrong
        type.

    Examples
    --------
    >>> parse_override("model.hidden=256")
    ('model', 'hidden', 256)
    >>> parse_override("train.cell=gru")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: command line: unknown key 'train.cell' (did you mean 'model.cell'?)
    """
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(f"{source_prefix(source)}override {text!r}: expected section.key=value, "
                          f"e.g. model.cell=lstm")
    dotted, _, raw = text.partition("=")
    dotted = dotted.strip()
    section, key = _split_key(dotted, source)
    return section, key, parse_value(dotted, raw, source)


def _check_printable(value, path, where=""):
    """Refuse an integer too long for Python to print (TOML's hex, octal and binary integers
    are not limited as decimal ones are): every error message shows the value."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_printable(item, path, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_printable(item, path, f"{where}[{index}]")
    elif isinstance(value, int):
        try:
            repr(value)
        except ValueError:
            raise ConfigError(f"{path}: {where} = an integer of more than "
                              f"{sys.get_int_max_str_digits()} digits; expected a value a "
                              f"config key takes") from None


def _parse_toml(path, data):
    """The tables of the TOML file ``path`` holding ``data`` (bytes); one-line errors."""
    try:
        content = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: byte {err.start} is not valid UTF-8; expected a TOML "
                          f"file") from None
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        where = ""
        if match:
            where = f" line {match[1]}, column {match[2]}:"
            message = message[:match.start()]
        raise ConfigError(f"{path}:{where} invalid TOML: {message}") from None
    except ValueError as err:  # Python's limit on the digits of an int, which tomllib lets by
        raise ConfigError(f"{path}: invalid TOML: {str(err).split(';')[0]}; expected the "
                          f"values of a config") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or inline tables nested too deeply "
                          f"to read; expected the values of a config") from None
    _check_printable(content, path)
    return content


def _read_file(path):
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        # A FIFO would block and /dev/zero never end: only a regular file is read.
        raise ConfigError(f"{path}: not a regular file (a FIFO, device or socket); expected a "
                          f"config file")
    if path.suffix == ".json":
        content = read_json(path, error=ConfigError)
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except OSError as err:
            raise ConfigError(f"{path}: cannot read the config file ({err.strerror})") from None
        content = _parse_toml(path, data)
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: holds a {type(content).__name__}; expected tables of keys")
    return content


def load(path=None, overrides=(), check_files=True, whole=()):
    """Resolve a config: defaults, then the file, then the overrides; validate; check paths.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A TOML file, or a ``.json`` config saved by :func:`save_resolved` (a run's
        ``config.json``); None uses the defaults only.
    overrides : sequence of str
        ``section.key=value`` strings applied in order (see :func:`parse_override`).
    check_files : bool
        Run :func:`check_paths` too (the default).  With False only :func:`validate` runs.
    whole : sequence of str
        Sections the file must hold whole, every key (a run's saved ``[model]``: a default in
        place of a missing key would build another network than the one trained).

    Returns
    -------
    Config
        The resolved config.

    Raises
    ------
    ConfigError
        One line naming the file or override, the key, the value and what was expected.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> data = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = data.write_text("hello")
    >>> toml = pathlib.Path(tmp.name) / "tiny.toml"
    >>> _ = toml.write_text(f'[data]\\npath = "{data.as_posix()}"\\n[model]\\ncell = "elman"\\n')
    >>> cfg = load(toml, ["model.hidden=16", "train.lr=0.01"])
    >>> cfg.model.cell, cfg.model.hidden, cfg.train.lr
    ('elman', 16, 0.01)
    >>> _ = toml.write_text("[model]\\ncel = 'gru'\\n")
    >>> load(toml)
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: .../tiny.toml: unknown key 'model.cel' (did you mean 'model.cell'?)
    >>> tmp.cleanup()
    """
    cfg, sources = defaults(), {}
    if path is not None:
        content, name = _read_file(path), str(path)
        for section in whole:
            missing = [key for key in DEFAULTS[section]
                       if isinstance(content.get(section), dict) and key not in content[section]]
            if missing:
                raise ConfigError(f"{name}: '{section}.{missing[0]}' is missing; expected the "
                                  f"whole [{section}] section rnnlab.train wrote (a default would "
                                  "build another network)")
        for section, values in content.items():
            if section not in DEFAULTS:
                if isinstance(values, dict):
                    raise unknown_key_error(section, None, name)
                raise unknown_key_error(None, section, name)
            if not isinstance(values, dict):
                raise ConfigError(f"{name}: '{section}' = {values!r}: expected a table "
                                  f"[{section}] of keys")
            for key, value in values.items():
                if key not in DEFAULTS[section]:
                    raise unknown_key_error(section, key, name)
                cfg[section][key] = coerce(f"{section}.{key}", value, name)
                sources[f"{section}.{key}"] = name
        sources[None] = name
    if isinstance(overrides, str):
        raise TypeError(f"overrides={overrides!r}: expected a sequence of section.key=value "
                        f"strings, not one string")
    for text in overrides:
        source = f"command line ({text})" if isinstance(text, str) else "command line"
        section, key, value = parse_override(text, source)
        cfg[section][key] = value
        sources[f"{section}.{key}"] = source
    cfg = validate(cfg, sources)
    if check_files:
        check_paths(cfg, sources)
    return cfg



def save_resolved(cfg, path):
    """Save a resolved config as JSON, atomically; :func:`load` reads it back unchanged.

    Parameters
    ----------
    cfg : Config
        A config from :func:`load` or :func:`validate`.
    path : str or os.PathLike
        Usually ``<run>/config.json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "resolved.json"
    >>> save_resolved(Config(), path)
    >>> load(path, check_files=False) == Config()
    True
    >>> tmp.cleanup()
    """
    write_json(path, cfg.to_dict())


def default_run_name(cfg, config_path=None):
    """The run name used when ``run.name`` is empty: ``<config stem>-<cell>-s<seed>``.

    Parameters
    ----------
    cfg : Config
        A resolved config.
    config_path : str or os.PathLike, optional
        The config file; without one the stem is ``"run"``.

    Returns
    -------
    str
        ``run.name`` if set, else the generated name.

    Examples
    --------
    >>> default_run_name(Config(), "experiments/shakespeare_lstm.toml")
    'shakespeare_lstm-lstm-s0'
    """
    if cfg.run.name:
        return cfg.run.name
    stem = Path(config_path).stem if config_path is not None else "run"
    return f"{stem}-{cfg.model.cell}-s{cfg.train.seed}"
