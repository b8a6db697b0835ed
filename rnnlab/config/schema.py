"""The config's typed defaults: every key, its default, its comment and the values it may take.

:data:`DEFAULTS` is the documentation of a config (see :mod:`rnnlab.config`): one line per key
with its default (whose type is the key's type) and a comment; :data:`CHOICES` lists the values
of the keys that take one of a few, and the value rules below say what else each key accepts
(:mod:`rnnlab.config.checks` applies them).  :func:`defaults` copies the defaults out and
:func:`describe` prints them as a TOML config for ``--help``.
"""

import copy
import json
import re

from rnnlab import backend

__all__ = ["DEFAULTS", "CHOICES", "RULES", "TYPE_NAMES", "defaults", "describe"]

# One line per key: (default, comment).  The default's type is the key's type.
DEFAULTS = {
    "data": {
        "kind": ("text", "what to model: characters of a text file, or a CSV time series"),
        "path": ("", "data file (required); text may also name a folder (its files, hidden ones "
                     "skipped) or a glob pattern such as 'src/**/*.py', read in path order; "
                     "relative paths resolve against the current directory"),
        "val_fraction": (0.05, "fraction of the data (the end, before test) used for validation "
                               "(0 = none: the best checkpoint is the latest, as in a refit)"),
        "test_fraction": (0.05, "fraction of the data (the very end) held out for testing"),
        "split_by": ("position", "text: position = the parts are the end of the characters (the "
                                 "files joined in path order); file = whole files, drawn by "
                                 "data.split_seed, make up each part"),
        "split_seed": (0, "text: the seed drawing the files of each part when data.split_by = "
                          "'file' (the same for every train.seed, so seeds share one split)"),
        "separator": ("\n\n", "text: what joins two files, so that no stream runs from one "
                                "file into the next unmarked"),
        "val_start": ("", "series: the first date of the validation part, e.g. 1958-01 ('' = "
                          "by data.val_fraction; a date needs data.date)"),
        "test_start": ("", "series: the first date of the test part, e.g. 1960-01 ('' = by "
                           "data.test_fraction)"),
        "seq_len": (100, "text: characters per truncated-BPTT chunk"),
        "max_chars": (0, "text: use only the first max_chars characters, the files joined in "
                         "path order (0 = all)"),
        "target": ([], "series: the column(s) to forecast (required for series): a name, a TOML "
                       "list [\"a\", \"b\"], or a,b or [a,b] on the command line"),
        "date": ("", "series: the date column ('' = none)"),
        "freq": ("", "series: the dates' step, a pandas offset alias: MS, ME, W-SUN, D, h, QS, "
                     "YS, ... ('' = infer from the dates)"),
        "dayfirst": (False, "series: read dates like 01.02.1949 day first (1 February)"),
        "date_format": ("", "series: strftime format of the dates, e.g. %d.%m.%Y ('' = infer)"),
        "covariates": ([], "series: extra input columns: a TOML list [\"x\", \"y\"], or x,y "
                           "or [x,y] on the command line"),
        "missing": ("error", "series: what to do with empty cells"),
        "transform": ("none", "series: transform before scaling (undone on forecasts)"),
        "scaler": ("standard", "series: scaling fitted on the training split only"),
        "lookback": (24, "series: input window length (time steps)"),
        "horizon": (12, "series: steps forecast at once"),
        "stride": (1, "series: steps between consecutive training windows"),
        "season": (0.0, "series: seasonal period m for seasonal naive and MASE (0 = from the "
                        "calendar: 12 monthly, 4 quarterly, 52 weekly, 7 daily, 24 hourly, else "
                        "1; a fraction such as 52.18 for weeks interpolates between two rows)"),
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
        "explode_factor": (10.0, "the loss explodes when above this times the first loss"),
        "on_divergence": ("stop", "when the loss becomes NaN/inf or explodes: stop (exit "
                                  "code 1), or halve the learning rate and retry from the last "
                                  "good checkpoint"),
        "max_retries": (3, "halve: how many times in a run before stopping"),
    },
    "run": {
        "dir": ("runs", "folder holding the run directories"),
        "name": ("", "run directory name ('' = <config stem>-<cell>-s<seed>; never overwritten)"),
        "sample_length": (200, "text: characters sampled at each evaluation"),
        "temperature": (0.8, "text: sampling temperature (lower = more conservative)"),
        "prime": ("", "text: text the samples start from"),
        "progress": (True, "show a progress bar with the live loss (on a terminal)"),
        "log_every": (30.0, "without a progress bar (output to a file or a pipe, or "
                            "run.progress = false): seconds between plain progress lines (0 = "
                            "none)"),
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
    "data.split_by": ("position", "file"),
    "model.cell": ("elman", "lstm", "gru"),
    "train.optimizer": ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
    "train.on_divergence": ("stop", "halve"),
    "device.device": tuple(backend.DEVICES),
    "device.mode": ("",) + tuple(backend.MODES),
    "device.floatX": tuple(backend.FLOATX),
}

#: The largest ``model.hidden`` and ``model.embedding``.
MAX_UNITS = 8192
#: The largest ``run.sample_length``, and ``python -m rnnlab.sample``'s default cap.
MAX_SAMPLE_LENGTH = 1_000_000

# Value checks beyond the type: (test, what is expected), by ``section.key``.
_POSITIVE = (lambda v: v >= 1, "a positive integer")
_COUNT = (lambda v: v >= 0, "an integer >= 0")
_NONNEG = (lambda v: v >= 0, "a number >= 0")
_FRACTION = (lambda v: 0 <= v < 1, "a number in [0, 1)")
RULES = {
    **{key: _POSITIVE for key in (
        "data.seq_len", "data.lookback", "data.horizon", "data.stride",
        "train.batch_size", "train.eval_every", "train.lr_decay_every")},
    **{key: _COUNT for key in ("data.max_chars", "train.max_steps", "train.max_epochs",
                               "train.eval_batches", "train.patience", "train.max_retries")},
    # Far above any model this toolkit trains, and below sizes that exhaust memory while the
    # network is built (one hidden-to-hidden matrix of 8192**2 floats is 256 MiB).
    "model.hidden": (lambda v: 1 <= v <= MAX_UNITS, f"an integer from 1 to {MAX_UNITS}"),
    "model.embedding": (lambda v: 0 <= v <= MAX_UNITS, f"an integer from 0 to {MAX_UNITS}"),
    **{key: _NONNEG for key in ("model.grad_clipping", "train.max_grad_norm", "train.time_budget",
                                "run.log_every")},
    **{key: _FRACTION for key in ("data.val_fraction", "data.test_fraction", "model.dropout")},
    "data.season": (lambda v: v == 0 or v >= 1,
                    "0 (the calendar's season) or a number >= 1, e.g. 12 or 52.18"),
    # Sampled at every evaluation: a bound keeps a typo from running for days.
    "run.sample_length": (lambda v: 1 <= v <= MAX_SAMPLE_LENGTH,
                          f"an integer from 1 to {MAX_SAMPLE_LENGTH}"),
    "model.layers": (lambda v: 1 <= v <= 3, "an integer from 1 to 3"),
    "model.gradient_steps": (lambda v: v == -1 or v >= 1, "-1 (no truncation) or an integer >= 1"),
    "train.lr": (lambda v: v > 0, "a number > 0"),
    "train.lr_decay": (lambda v: 0 < v <= 1, "a number in (0, 1] (1 = no decay)"),
    # numpy's generators take seeds below 2**32.
    **{key: (lambda v: 0 <= v < 2 ** 32, "an integer from 0 to 4294967295")
       for key in ("train.seed", "data.split_seed")},
    "data.separator": (lambda v: 1 <= len(v) <= 64, "1 to 64 characters (files are never joined "
                                                      "unmarked)"),
    "train.explode_factor": (lambda v: v > 1, "a number > 1"),
    "run.temperature": (lambda v: v > 0, "a number > 0"),
    # Only the form here (the config may not import pandas); rnnlab.datasets.series checks that
    # pandas knows the alias when the data is read.
    "data.freq": (lambda v: re.fullmatch(r"(\d*[A-Za-z]+(-[A-Za-z]{3})?)?", v) is not None,
                  "a pandas offset alias such as MS, W-SUN, D or h ('' = infer from the dates)"),
    "data.date_format": (lambda v: v == "" or "%" in v,
                         "a strftime format such as %d.%m.%Y ('' = infer)"),
    "run.dir": (lambda v: v != "" and "\0" not in v, "a non-empty folder path without NUL "
                                                      "characters"),
    "run.name": (lambda v: v not in (".", "..") and not re.search(r"[/\\\0]", v),
                 "a directory name without path separators ('' = automatic)"),
}

TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list of strings"}


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
