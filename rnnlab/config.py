"""Experiment configuration: typed defaults, TOML files, ``section.key=value`` overrides, checks.

A config is a plain nested dict ``{section: {key: value}}`` that JSON can hold.  :data:`DEFAULTS`
below is its documentation: every key, its default (whose type is the key's type) and a comment.
A config file (TOML, or a run's saved ``config.json``) only overrides defaults; command-line
overrides (``model.cell=gru train.lr=0.01``) override the file.  :func:`load` does all of it and
then checks the result in two steps:

* :func:`validate` checks the values themselves (types, choices, sizes, fractions) and needs no
  file, so it can check any dict;
* :func:`check_paths` checks that ``data.path`` names an existing file.

Every failure is a :class:`~rnnlab.errors.ConfigError` with one line naming the file (or the
command line), the key as ``section.key``, the value and what was expected, with a "did you
mean" hint for misspelt sections, keys and choices.
"""

import copy
import difflib
import json
import math
import re
import tomllib
from pathlib import Path

from rnnlab import backend
from rnnlab.errors import ConfigError
from rnnlab.runs import read_json, write_json

__all__ = ["DEFAULTS", "CHOICES", "defaults", "load", "parse_override", "parse_value",
           "validate", "check_paths", "describe", "save_resolved", "default_run_name"]

# One line per key: (default, comment).  The default's type is the key's type.
DEFAULTS = {
    "data": {
        "kind": ("text", "what to model: characters of a text file, or a CSV time series"),
        "path": ("", "data file (required); relative paths resolve against the current directory"),
        "val_fraction": (0.05, "fraction of the data (the end, before test) used for validation"),
        "test_fraction": (0.05, "fraction of the data (the very end) held out for testing"),
        "seq_len": (100, "text: characters per truncated-BPTT chunk"),
        "max_chars": (0, "text: use only the first max_chars characters (0 = all)"),
        "target": ("", "series: the column to forecast (required for series)"),
        "date": ("", "series: the date column ('' = none)"),
        "covariates": ([], "series: extra input columns"),
        "missing": ("error", "series: what to do with empty cells"),
        "transform": ("none", "series: transform before scaling (undone on forecasts)"),
        "scaler": ("standard", "series: scaling fitted on the training split only"),
        "lookback": (24, "series: input window length (time steps)"),
        "horizon": (12, "series: steps forecast at once"),
        "stride": (1, "series: steps between consecutive training windows"),
        "season": (1, "series: seasonal period m for seasonal naive and MASE (1 = naive)"),
        "strategy": ("direct", "series: direct = predict the whole horizon at once; recursive = "
                                "one step at a time, fed back"),
    },
    "model": {
        "cell": ("lstm", "recurrent cell: the only switch between model types"),
        "hidden": (128, "units per recurrent layer"),
        "layers": (1, "stacked recurrent layers (1-3)"),
        "dropout": (0.0, "dropout between layers and before the output (0 = off)"),
        "embedding": (0, "text: 0 = one-hot input, else the embedding size"),
        "grad_clipping": (0.0, "clip gradients inside the recurrence to +-this (0 = off)"),
        "gradient_steps": (-1, "backpropagate through at most this many steps (-1 = all)"),
    },
    "train": {
        "optimizer": ("adam", "update rule from rnnlab.nn.updates"),
        "lr": (0.002, "learning rate"),
        "lr_decay": (1.0, "multiply the learning rate by this every lr_decay_every steps"),
        "lr_decay_every": (1000, "steps between learning-rate decays"),
        "batch_size": (32, "sequences (text streams or series windows) per batch"),
        "max_grad_norm": (5.0, "rescale gradients whose total norm exceeds this (0 = off)"),
        "max_steps": (1000, "stop after this many updates (0 = no limit)"),
        "max_epochs": (0, "stop after this many passes over the training data (0 = no limit)"),
        "time_budget": (0.0, "stop after this many seconds of training (0 = no limit)"),
        "eval_every": (100, "steps between evaluations, checkpoints and samples"),
        "eval_batches": (0, "validation batches per evaluation (0 = the whole split)"),
        "patience": (0, "evaluations without improvement before stopping (0 = off)"),
        "seed": (0, "seed of every random choice (initialisation, dropout, batch order)"),
        "explode_factor": (10.0, "stop when the training loss exceeds this times the first loss"),
    },
    "run": {
        "dir": ("runs", "folder holding the run directories"),
        "name": ("", "run directory name ('' = <config stem>-<cell>-s<seed>; never overwritten)"),
        "sample_length": (200, "text: characters sampled at each evaluation"),
        "temperature": (0.8, "text: sampling temperature (lower = more conservative)"),
        "prime": ("", "text: text the samples start from"),
        "progress": (True, "show a progress bar with the live loss"),
    },
    "device": {
        "device": ("cpu", "where to compute (gpu = PyTensor's JAX backend on a CUDA device)"),
        "mode": ("", "PyTensor compile mode ('' = rnnlab.backend's default)"),
        "floatX": ("float32", "floating-point type of parameters and data"),
    },
}

#: The allowed values of the keys that take one of a few, by ``section.key``.
CHOICES = {
    "data.kind": ("text", "series"),
    "data.missing": ("error", "interpolate", "ffill"),
    "data.transform": ("none", "log", "diff", "log+diff"),
    "data.scaler": ("standard", "minmax", "none"),
    "data.strategy": ("direct", "recursive"),
    "model.cell": ("elman", "lstm", "gru"),
    "train.optimizer": ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
    "device.device": tuple(backend.DEVICES),
    "device.mode": ("",) + tuple(backend.MODES),
    "device.floatX": tuple(backend.FLOATX),
}

# Value checks beyond the type: (test, what is expected), by ``section.key``.
_POSITIVE = (lambda v: v >= 1, "a positive integer")
_COUNT = (lambda v: v >= 0, "an integer >= 0")
_NONNEG = (lambda v: v >= 0, "a number >= 0")
_FRACTION = (lambda v: 0 <= v < 1, "a number in [0, 1)")
_RULES = {
    **{key: _POSITIVE for key in (
        "data.seq_len", "data.lookback", "data.horizon", "data.stride", "data.season",
        "model.hidden", "train.batch_size", "train.eval_every", "train.lr_decay_every",
        "run.sample_length")},
    **{key: _COUNT for key in ("data.max_chars", "model.embedding", "train.max_steps",
                               "train.max_epochs", "train.eval_batches", "train.patience")},
    **{key: _NONNEG for key in ("model.grad_clipping", "train.max_grad_norm", "train.time_budget")},
    **{key: _FRACTION for key in ("data.val_fraction", "data.test_fraction", "model.dropout")},
    "model.layers": (lambda v: 1 <= v <= 3, "an integer from 1 to 3"),
    "model.gradient_steps": (lambda v: v == -1 or v >= 1, "-1 (no truncation) or an integer >= 1"),
    "train.lr": (lambda v: v > 0, "a number > 0"),
    "train.lr_decay": (lambda v: 0 < v <= 1, "a number in (0, 1] (1 = no decay)"),
    "train.seed": (lambda v: v >= 0, "an integer >= 0"),
    "train.explode_factor": (lambda v: v > 1, "a number > 1"),
    "run.temperature": (lambda v: v > 0, "a number > 0"),
    "run.dir": (lambda v: v != "", "a non-empty folder name"),
    "run.name": (lambda v: v not in (".", "..") and not re.search(r"[/\\\0]", v),
                 "a directory name without path separators ('' = automatic)"),
}

_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list of strings"}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def defaults():
    """Return a fresh config holding every default value.

    Returns
    -------
    dict
        ``{section: {key: default}}``; changing it does not change :data:`DEFAULTS`.

    Examples
    --------
    >>> cfg = defaults()
    >>> cfg["model"]["cell"], cfg["train"]["lr"], cfg["data"]["covariates"]
    ('lstm', 0.002, [])
    """
    return {section: {key: copy.deepcopy(entry[0]) for key, entry in keys.items()}
            for section, keys in DEFAULTS.items()}


def _prefix(source):
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


def _unknown_key(section, key, source):
    name = f"{section}.{key}" if section is not None else key
    if section is not None and section not in DEFAULTS and key is None:
        close = difflib.get_close_matches(section, list(DEFAULTS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return ConfigError(f"{_prefix(source)}unknown section '{section}'{hint}; expected one of "
                           f"{', '.join(DEFAULTS)}")
    suggestion = _suggest_key(section, key)
    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
    where = "" if section is not None else "; keys belong to a section, as section.key"
    if not suggestion and section in DEFAULTS:
        where = f"; [{section}] has {', '.join(DEFAULTS[section])}"
    return ConfigError(f"{_prefix(source)}unknown key '{name}'{hint}{where}")


def _expected(dotted):
    section, key = dotted.split(".")
    if dotted in CHOICES:
        return "one of " + ", ".join(repr(c) for c in CHOICES[dotted])
    if dotted in _RULES:
        return _RULES[dotted][1]
    return _TYPE_NAMES[type(DEFAULTS[section][key][0])]


def _bad_value(dotted, value, source, expected=None, hint=""):
    return ConfigError(f"{_prefix(source)}{dotted} = {value!r}: expected "
                       f"{expected or _expected(dotted)}{hint}")


def _coerce(dotted, value, source):
    """Check ``value``'s type against the default's, converting int -> float and tuple -> list."""
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
                raise _bad_value(dotted, value, source, "a finite number")
    elif kind is list:
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = list(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise _bad_value(dotted, value, source, _TYPE_NAMES[kind])
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
        ``{"section.key": name}`` (what :func:`load` passes).

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
        raise ConfigError(f"{_prefix(_source_of(sources, None))}config is a "
                          f"{type(cfg).__name__}; expected a dict of sections")
    for section in cfg:
        if section not in DEFAULTS:
            raise _unknown_key(section, None, _source_of(sources, None))
    out = {}
    for section, keys in DEFAULTS.items():
        values = cfg.get(section)
        if not isinstance(values, dict):
            raise ConfigError(f"{_prefix(_source_of(sources, None))}section '{section}' is "
                              f"{'missing' if values is None else repr(values)}; expected a "
                              f"table of keys")
        for key in values:
            if key not in keys:
                raise _unknown_key(section, key, _source_of(sources, f"{section}.{key}"))
        out[section] = {}
        for key in keys:
            dotted = f"{section}.{key}"
            source = _source_of(sources, dotted)
            if key not in values:
                raise ConfigError(f"{_prefix(source)}missing key '{dotted}'; expected every key "
                                  f"(start from rnnlab.config.defaults())")
            value = _coerce(dotted, values[key], source)
            if dotted in CHOICES and value not in CHOICES[dotted]:
                close = difflib.get_close_matches(str(value).lower(), [str(c).lower() for c in
                                                  CHOICES[dotted]], n=1)
                hint = ""
                if close:
                    match = next(c for c in CHOICES[dotted] if str(c).lower() == close[0])
                    hint = f" (did you mean {match!r}?)"
                raise _bad_value(dotted, value, source, hint=hint)
            if dotted in _RULES and not _RULES[dotted][0](value):
                raise _bad_value(dotted, value, source)
            out[section][key] = value
    data = out["data"]
    if data["val_fraction"] + data["test_fraction"] >= 1:
        raise ConfigError(f"{_prefix(_source_of(sources, 'data.test_fraction'))}"
                          f"data.val_fraction + data.test_fraction = {data['val_fraction']!r} + "
                          f"{data['test_fraction']!r}: expected a sum < 1 (data left to train on)")
    if data["kind"] == "series" and not data["target"]:
        raise _bad_value("data.target", "", _source_of(sources, "data.target"),
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
        raise _bad_value("data.path", path, source, "the data file to train on (set data.path "
                         "in the config or as data.path=FILE)")
    resolved = Path(path).expanduser()
    if resolved.is_file():
        return
    if resolved.exists():
        raise _bad_value("data.path", path, source, "a file, not a directory")
    hint = ""
    folder = resolved.parent
    if folder.is_dir():
        close = difflib.get_close_matches(resolved.name, [p.name for p in folder.iterdir()], n=1)
        hint = f" (did you mean '{folder / close[0]}'?)" if close else ""
    raise ConfigError(f"{_prefix(source)}data.path = {path!r}: file not found; expected an "
                      f"existing file (relative to {Path.cwd()}){hint}")


def _split_key(dotted, source):
    section, _, key = dotted.rpartition(".")
    if not section:
        raise _unknown_key(None, dotted, source)
    if section not in DEFAULTS or key not in DEFAULTS[section]:
        raise _unknown_key(section, key, source)
    return section, key


def parse_value(dotted, text, source="command line"):
    """Parse the text of a value for ``section.key`` by the type of its default.

    Booleans accept true/false, 1/0, yes/no, on/off (any case); lists are comma-separated
    (``""`` is the empty list); strings are taken as they are.  Only the type is checked here.

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
    """
    section, key = _split_key(dotted, source)
    kind = type(DEFAULTS[section][key][0])
    if kind is str:
        return text
    if kind is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    word = text.strip()
    if kind is bool:
        if word.lower() in _TRUE + _FALSE:
            return word.lower() in _TRUE
    else:
        try:
            number = kind(word)
        except ValueError:
            pass
        else:
            return _coerce(dotted, number, source)
    raise _bad_value(dotted, text, source, _TYPE_NAMES[kind])


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
        raise ConfigError(f"{_prefix(source)}override {text!r}: expected section.key=value, "
                          f"e.g. model.cell=lstm")
    dotted, _, raw = text.partition("=")
    dotted = dotted.strip()
    section, key = _split_key(dotted, source)
    return section, key, parse_value(dotted, raw, source)


def _read_file(path):
    path = Path(path)
    if path.suffix == ".json":
        content = read_json(path, error=ConfigError)
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except OSError as err:
            raise ConfigError(f"{path}: cannot read the config file ({err.strerror})") from None
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
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: holds a {type(content).__name__}; expected tables of keys")
    return content


def load(path=None, overrides=(), check_files=True):
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

    Returns
    -------
    dict
        The resolved config ``{section: {key: value}}``.

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
    >>> cfg["model"]["cell"], cfg["model"]["hidden"], cfg["train"]["lr"]
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
        for section, values in content.items():
            if section not in DEFAULTS:
                if isinstance(values, dict):
                    raise _unknown_key(section, None, name)
                raise _unknown_key(None, section, name)
            if not isinstance(values, dict):
                raise ConfigError(f"{name}: '{section}' = {values!r}: expected a table "
                                  f"[{section}] of keys")
            for key, value in values.items():
                if key not in DEFAULTS[section]:
                    raise _unknown_key(section, key, name)
                cfg[section][key] = _coerce(f"{section}.{key}", value, name)
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


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return repr(value)


def describe():
    """Describe every key with its default and comment, as a valid TOML config (for --help).

    Returns
    -------
    str
        One ``[section]`` header per section and one ``key = default  # comment`` line per key;
        choices are listed in the comment.

    Examples
    --------
    >>> text = describe()
    >>> print(text.splitlines()[0])
    [data]
    >>> [line for line in text.splitlines() if line.startswith("cell")]
    ['cell = "lstm"  # recurrent cell: the only switch between model types (elman | lstm | gru)']
    >>> import tomllib; tomllib.loads(text) == defaults()
    True
    """
    lines = []
    for section, keys in DEFAULTS.items():
        lines.append(f"[{section}]")
        for key, (default, comment) in keys.items():
            choices = CHOICES.get(f"{section}.{key}")
            if choices:
                comment += " (" + " | ".join(c if c else "''" for c in choices) + ")"
            lines.append(f"{key} = {_toml_value(default)}  # {comment}")
        lines.append("")
    return "\n".join(lines)


def save_resolved(cfg, path):
    """Save a resolved config as JSON, atomically; :func:`load` reads it back unchanged.

    Parameters
    ----------
    cfg : dict
        A config from :func:`load` or :func:`validate`.
    path : str or os.PathLike
        Usually ``<run>/config.json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "config.json"
    >>> save_resolved(defaults(), path)
    >>> load(path, check_files=False) == defaults()
    True
    >>> tmp.cleanup()
    """
    write_json(path, cfg)


def default_run_name(cfg, config_path=None):
    """The run name used when ``run.name`` is empty: ``<config stem>-<cell>-s<seed>``.

    Parameters
    ----------
    cfg : dict
        A resolved config.
    config_path : str or os.PathLike, optional
        The config file; without one the stem is ``"run"``.

    Returns
    -------
    str
        ``run.name`` if set, else the generated name.

    Examples
    --------
    >>> default_run_name(defaults(), "experiments/shakespeare_lstm.toml")
    'shakespeare_lstm-lstm-s0'
    """
    if cfg["run"]["name"]:
        return cfg["run"]["name"]
    stem = Path(config_path).stem if config_path is not None else "run"
    return f"{stem}-{cfg['model']['cell']}-s{cfg['train']['seed']}"
