"""Property-based fuzzing of the four commands: success, or one line ``error: ...`` and exit 2.

Hypothesis generates the inputs a user can hand the commands -- TOML and JSON configs (valid,
of wrong types, with unknown keys, out-of-range or huge values, deep nesting, odd unicode,
broken syntax), ``section.key=value`` overrides, CSV files, text files, command-line options and
finished run directories damaged byte by byte or field by field -- and runs ``rnnlab.train``,
``.sample``, ``.forecast`` and ``.compare`` on them in-process through
:func:`rnnlab.commands.cli.run_command`, as ``python -m`` does.  Every case must end in one of:

* exit code 2 with exactly one line on stderr, starting with ``error: ``, nothing on stdout and
  not one file created, removed or changed under the case's folder;
* success (exit code 0; for ``train`` also exit code 1 with its one ``stopped at step`` line, a
  divergence), with files created only inside a directory the command made;

and never a traceback.  Each case gets its own folder (the working directory while the command
runs) holding its generated files and copies of finished runs, built once per module with tiny
models as in ``tests/test_fuzz_inputs.py``.

Most cases are decided before anything is compiled.  The properties that generate bad input stop
a case that every check has let through where it would build and compile the model (the data
read and checked), compile the report's gradient curves or any other PyTensor function, or start
a process (compare's trainings and forecasts): that point counts as accepted, provided nothing
was printed and nothing written outside a new directory.  ``compare`` draws no plots there (matplotlib's seconds).  What happens
after the compile is the subject of the ``*_to_the_end`` properties, which run accepted values
through to their end, plots included, on one tiny model shape (``sample`` and ``forecast`` reuse
one loaded session per run and checkpoint, since their run directories are undamaged copies).

Profiles: ``ci`` (the default: derandomized, so the same cases every time, no example database,
no deadline, a bounded number of examples per property: the file takes about a minute) and
``nightly`` (``HYPOTHESIS_PROFILE=nightly``: twenty times as many examples, a random seed).
Run with ``--hypothesis-show-statistics`` to see how each property's cases ended.
"""

import contextlib
import datetime
import functools
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytensor
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rnnlab import config, training
from rnnlab.commands import compare, forecast, sample, train
from rnnlab.commands.cli import run_command
from rnnlab.config.schema import CHOICES, DEFAULTS
from rnnlab.evaluation import plots
from rnnlab.reports import comparison
from rnnlab.run import RunDir
from rnnlab.run.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.training import session as session_module
from rnnlab.training.session import load_run

ROOT = Path(__file__).resolve().parents[1]
TEXT_CFG = ROOT / "experiments" / "smoke_text.toml"
SERIES_CFG = ROOT / "experiments" / "smoke_series.toml"
SHAKESPEARE = ROOT / "data" / "shakespeare.txt"
AIRLINE = ROOT / "data" / "airline_passengers.csv"
COMMANDS = {"train": train.main, "sample": sample.main, "forecast": forecast.main,
            "compare": compare.main}
TINY = ["model.cell=elman", "model.hidden=4", "train.max_steps=2", "train.eval_every=1",
        "run.sample_length=5", "run.progress=false"]
KEYS = [f"{section}.{key}" for section, keys in DEFAULTS.items() for key in keys]

# ------------------------------------------------------------------------------ the profiles

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=100, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example])
settings.register_profile("nightly", settings.get_profile("ci"), derandomize=False,
                          max_examples=2000)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def budget(share):
    """Settings for a property that runs ``share`` times the profile's examples."""
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * share)))


# ------------------------------------------------------------------------------ the runs

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Finished tiny runs to copy and damage: ``text`` and ``series`` (with its forecast)."""
    root = tmp_path_factory.mktemp("trained")
    specs = {"text": (TEXT_CFG, SHAKESPEARE, ["data.max_chars=1000"]),
             "series": (SERIES_CFG, AIRLINE, [])}
    runs = {}
    for name, (path, data, extra) in specs.items():
        cfg = config.load(path, [f"data.path={data}", f"run.dir={root}", f"run.name={name}",
                                 *TINY, "train.max_steps=1", *extra])
        runs[name] = Path(training.train(cfg, out=lambda line: None)["run_dir"])
    with contextlib.redirect_stdout(io.StringIO()):
        forecast.main([str(runs["series"])])  # so compare starts no forecasting process
    return runs


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """The folder under which every case gets its own, removed when the case ends."""
    return tmp_path_factory.mktemp("cases")


class Folder:
    """One case's folder: ``runs/`` with copies of finished runs, and generated files."""

    def __init__(self, path, trained):
        self.path, self.trained = path, trained
        self.runs = path / "runs"
        self.runs.mkdir()

    def run(self, name, source=None):
        """``runs/name``: a copy of the finished run ``source`` (``text`` or ``series``; by
        default ``name``), made by the first call."""
        copy = self.runs / name
        if not copy.exists():  # without the plots, which no command reads
            shutil.copytree(self.trained[source or name], copy,
                            ignore=shutil.ignore_patterns("*.png"))
        return copy

    def write(self, name, content):
        """Write ``content`` (str or bytes) to ``name`` in the folder; return its path."""
        path = self.path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path


@contextlib.contextmanager
def folder(cases, trained):
    """A new case folder, removed afterwards."""
    path = Path(tempfile.mkdtemp(dir=cases))
    try:
        yield Folder(path, trained)
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------ the contract

class Compiling(BaseException):
    """Raised where a case would compile or start a process: everything before it accepted it.

    A BaseException, so that no ``except Exception`` of the code under test can take it for an
    error of the input.
    """


def _stop(*args, **kwargs):
    raise Compiling


@contextlib.contextmanager
def stop_at_compile():
    """Make building a model (initialising an accepted ``model.hidden = 8192`` alone takes
    minutes), compiling a report's gradient curves or any other PyTensor function, and starting
    compare's processes, raise :class:`Compiling`."""
    with mock.patch.object(session_module, "build_network", _stop), \
            mock.patch.object(comparison, "gradient_curves", _stop), \
            mock.patch.object(pytensor, "function", _stop), \
            mock.patch.object(compare, "execute", _stop):
        yield


LOCK = RunDir(".").lock_file.name


def snapshot(path):
    """Every file and folder under ``path``: relative path -> (size, mtime, sha256) or None.

    A run's lock file counts by its presence: a trainer writes its pid into it when it takes the
    lock, before it checks the run's files (:meth:`rnnlab.run.RunDir.lock`).
    """
    found = {}
    for folder_path, folders, files in os.walk(path):
        here = Path(folder_path)
        found.update({(here / name).relative_to(path): None for name in folders})
        for name in files:
            item = here / name
            stat = item.stat()
            found[item.relative_to(path)] = "lock" if name == LOCK else (
                stat.st_size, stat.st_mtime_ns, hashlib.sha256(item.read_bytes()).hexdigest())
    return found


def execute(command, argv, where):
    """Run ``command`` on ``argv`` in the folder ``where``: (exit code, stdout, stderr).

    The exit code is ``"compiling"`` when the case reached :class:`Compiling`.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(where), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            code = run_command(COMMANDS[command], [str(arg) for arg in argv])
        except SystemExit as exit:
            code = exit.code
        except Compiling:
            code = "compiling"
    return code, out.getvalue(), err.getvalue()


def _outside_new_folders(before, after):
    """The paths created, removed or changed outside the folders created since ``before``."""
    new = {path for path in after if path not in before and after[path] is None}
    changed = [path for path in before.keys() | after.keys()
               if before.get(path, "absent") != after.get(path, "absent")]
    return sorted(str(path) for path in changed
                  if path not in new and not any(parent in new for parent in path.parents))


def check_contract(command, argv, case, success=(0,)):
    """Run one case and assert the contract (see the module docstring); return its exit code."""
    before = snapshot(case.path)
    code, out, err = execute(command, argv, case.path)
    after = snapshot(case.path)
    assert "Traceback" not in out + err, err
    if code == 2:
        event(f"{command}: exit 2")
        assert out == "", out
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert after == before, _outside_new_folders(before, after)
        return code
    if code == "compiling":
        event(f"{command}: accepted, stopped before building or compiling")
        assert err == "", err
    else:
        event(f"{command}: exit {code}")
        assert code in success, (code, err)
        if code == 1:
            assert len(err.splitlines()) == 1 and err.startswith("stopped at step "), err
    assert not _outside_new_folders(before, after), _outside_new_folders(before, after)
    return code


# ------------------------------------------------------------------------------ values

#: Characters of generated text: any code point but surrogates, which no UTF-8 file can hold.
CHARS = st.characters(exclude_categories=("Cs",))
#: Characters of a command-line argument: no NUL byte either (the OS cannot pass one).
ARG_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
ODD_WORDS = ["", " ", "\u0661\u0662", "caf\u00e9", "\u202eRTL", "a" * 300, "~/x", "..", "/",
             "\t", "x y", "\U0001f600", "%Y-%m", "Passengers", "Month", "Extra", "MS", "D"]
WORDS = st.one_of(st.sampled_from(ODD_WORDS), st.text(CHARS, max_size=10))
ARG_WORDS = st.one_of(st.sampled_from(ODD_WORDS), st.text(ARG_CHARS, max_size=10))
EDGE_INTS = [-1, 0, 1, 2, 3, 4, 16, 64, 1000, 8192, 8193, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32,
             2 ** 63, -2 ** 63, 10 ** 30]
EDGE_FLOATS = [0.0, -0.0, 0.5, 0.999, 1.0, 1.5, 5e-324, 1e-300, 1e300, 1.7976931348623157e308,
               math.nan, math.inf, -math.inf]


class Raw(str):
    """Text that goes into a generated file as it is: a number too long for Python's int
    conversion, a nesting deeper than any parser's recursion."""


RAW = st.sampled_from([Raw("1" + "0" * 5000), Raw("-" + "9" * 4400), Raw("1e99999"),
                       Raw("[" * 3000 + "]" * 3000), Raw("{a = " * 800 + "1" + "}" * 800),
                       Raw("0x" + "f" * 5000)])
SCALARS = st.one_of(st.booleans(), st.integers(), st.floats(), WORDS, st.dates(),
                    st.sampled_from(EDGE_INTS), st.sampled_from(EDGE_FLOATS), RAW)
ANY = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(WORDS, inner, max_size=3)), max_leaves=6)


def plausible(dotted):
    """Values of the type of ``section.key``: its choices, small numbers and the edges."""
    section, key = dotted.split(".")
    default = DEFAULTS[section][key][0]
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.one_of(st.integers(-3, 40), st.sampled_from(EDGE_INTS))
    if isinstance(default, float):
        return st.one_of(st.floats(-2, 2), st.sampled_from(EDGE_FLOATS))
    if isinstance(default, list):
        return st.lists(WORDS, max_size=3)
    return st.one_of(st.sampled_from(CHOICES.get(dotted) or [default]), WORDS)


def values_of(dotted):
    """Mostly plausible values for ``section.key``; sometimes anything at all."""
    return st.one_of(plausible(dotted), plausible(dotted), ANY)


@st.composite
def typos(draw, word):
    """``word`` misspelt: a letter dropped, doubled or changed, or the case changed."""
    index = draw(st.integers(0, max(len(word) - 1, 0)))
    kind = draw(st.sampled_from(["drop", "double", "change", "upper"]))
    if kind == "upper" or not word:
        return word.upper() or "X"
    if kind == "drop":
        return word[:index] + word[index + 1:]
    letter = word[index] if kind == "double" else draw(st.sampled_from("aeioxz_.-"))
    return word[:index] + letter + word[index + (kind == "change"):]


# ------------------------------------------------------------------------------ config files

TEXT_BASE = {"data": {"kind": "text", "path": str(SHAKESPEARE), "max_chars": 1000,
                      "seq_len": 16, "val_fraction": 0.1, "test_fraction": 0.1},
             "model": {"cell": "elman", "hidden": 4},
             "train": {"batch_size": 4, "max_steps": 2, "eval_every": 1},
             "run": {"dir": "runs", "sample_length": 5, "progress": False}}
SERIES_BASE = {"data": {"kind": "series", "path": str(AIRLINE), "target": ["Passengers"],
                        "date": "Month", "val_fraction": 0.2, "test_fraction": 0.2,
                        "transform": "log", "lookback": 12, "horizon": 6, "season": 12},
               "model": {"cell": "elman", "hidden": 4},
               "train": {"batch_size": 16, "max_steps": 2, "eval_every": 1},
               "run": {"dir": "runs", "progress": False}}


@st.composite
def config_trees(draw):
    """A config as nested tables: a valid tiny one, edited 0 to 4 times."""
    base = draw(st.sampled_from([TEXT_BASE, SERIES_BASE]))
    tree = {section: dict(values) for section, values in base.items()}
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["set", "set", "set", "drop", "typo", "odd"]))
        dotted = draw(st.sampled_from(KEYS))
        section, key = dotted.split(".")
        table = tree.setdefault(section, {})
        if not isinstance(table, dict):
            continue
        if kind == "set":
            table[key] = draw(values_of(dotted))
        elif kind == "drop":
            table.pop(key, None)
        elif kind == "typo":
            table[draw(typos(key))] = draw(values_of(dotted))
        else:  # a section that is not a table, or a table of an unknown name
            tree[draw(st.one_of(st.just(section), typos(section), WORDS))] = draw(ANY)
    return tree


def _toml_string(text):
    escaped = "".join("\\" + c if c in '"\\' else f"\\u{ord(c):04x}"
                      if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)
    return f'"{escaped}"'


def toml_value(value):
    """``value`` as TOML (a :class:`Raw` as it is)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return "{" + ", ".join(f"{_toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def render_toml(tree):
    """A TOML file of ``tree``: its bare keys first, then one ``[table]`` per table."""
    lines = [f"{_toml_string(k)} = {toml_value(v)}" for k, v in tree.items()
             if not isinstance(v, dict)]
    for name, table in tree.items():
        if isinstance(table, dict):
            lines.append(f"[{_toml_string(name)}]")
            lines += [f"{_toml_string(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def json_value(value):
    """``value`` as JSON (a :class:`Raw` as it is, a date as its ISO text)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, datetime.date):
        return json.dumps(value.isoformat())
    if isinstance(value, list):
        return "[" + ", ".join(map(json_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {json_value(v)}"
                               for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


@st.composite
def damaged_bytes(draw, data):
    """``data``, or ``data`` truncated, with bytes flipped or inserted, or other bytes."""
    kind = draw(st.sampled_from(["same"] * 6 + ["truncate", "flip", "insert", "other"]))
    if kind == "other":
        return draw(st.binary(max_size=200))
    at = round(len(data) * draw(st.floats(0, 1)))
    if kind == "truncate":
        return data[:at]
    if kind == "flip" and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


ENCODINGS = ["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1", "cp1252"]


@st.composite
def config_files(draw):
    """(file name, bytes) of a config: TOML or JSON, valid, broken or garbage."""
    tree = draw(config_trees())
    name = draw(st.sampled_from(["c.toml"] * 6 + ["c.json"] * 2 + ["c.TOML", "c"]))
    text = json_value(tree) if name.endswith(".json") else render_toml(tree)
    encoding = draw(st.sampled_from(ENCODINGS))
    return name, draw(damaged_bytes(text.encode(encoding, errors="replace")))


# ------------------------------------------------------------------------------ overrides

#: The texts a value may be typed as on the command line, beyond the plain ones.
ODD_NUMBERS = ["1_0", "\u0661\u0662", "0x10", "1e3", " 7 ", "+4", "4.0", "inf", "-inf", "nan",
               "-0", "1e999", "9" * 400, "1" + "0" * 5000, "", "true", "[1, 2]", "[x]", "[",
               '["a", "b"]', "a,,b", "1,2", "\u00bd", "0b11", "1e-400", "5e-324"]


def _typed(value):
    """A value as typed: booleans and lists as the command line writes them."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


@st.composite
def override_texts(draw, keys=KEYS):
    """One ``section.key=value`` argument: mostly a real key with a plausible value."""
    dotted = draw(st.sampled_from(keys))
    key = draw(st.one_of(st.just(dotted), st.just(dotted), st.just(dotted), typos(dotted),
                         st.sampled_from(["", ".", "model.", ".cell", "a.b.c", "model hidden"])))
    value = draw(st.one_of(plausible(dotted).map(_typed), plausible(dotted).map(_typed),
                           st.sampled_from(ODD_NUMBERS), ARG_WORDS))
    return draw(st.sampled_from([f"{key}={value}"] * 8 + [key, f"{key} = {value}", f"={value}"]))


TRAIN_OPTIONS = [["--device", "gpu"], ["--device", "cpu"], ["--device", "tpu"], ["--dry-run"],
                 ["--resume", "runs"], ["--config", str(SERIES_CFG)], ["--cofnig", "x"],
                 ["--version"], ["-h"], ["--"]]


# ------------------------------------------------------------------------------ data files

ODD_CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "1e300", "-1e300", "-5", "0", "abc", "1,5",
             "1e-320", "9" * 400, " 12 ", "0x10", "\u0661\u0662", '"7"', "1e400", "-0"]
ODD_DATES = ["", "1949-13", "abc", "1949-02-30", "0000-01", "99999-01", "1949/03", "1e5",
             "1949-01", "01.02.1949", "2262-05", "1677-09", "1949-01-01T00:00", "NaT"]
HEADERS = [["Month", "Passengers"]] * 6 + [["month", "passengers"], ["Month"], ["Passengers"],
                                           ["Month", "Passengers", "Extra"], ["Month", "Month"],
                                           ["", "Passengers"], ["Passengers", "Month"]]


@st.composite
def edited_row(draw, row):
    """A row of cells with its date or value replaced, a cell dropped or one added."""
    kind = draw(st.sampled_from(["date", "value", "value", "drop", "extra", "float"]))
    if kind == "date" and row:
        row[0] = draw(st.one_of(st.sampled_from(ODD_DATES), WORDS))
    elif kind == "value" and len(row) > 1:
        row[1] = draw(st.one_of(st.sampled_from(ODD_CELLS), WORDS))
    elif kind == "float" and len(row) > 1:
        row[1] = repr(draw(st.floats()))
    elif kind == "drop" and row:
        row.pop()
    elif kind == "extra":
        row.append(draw(st.sampled_from(ODD_CELLS)))
    return row


@st.composite
def csv_files(draw):
    """A CSV like the airline data; two in three with header, rows, cells, separator, line ends
    or encoding edited."""
    edited = draw(st.integers(0, 2)) > 0
    header = draw(st.one_of(st.sampled_from(HEADERS), st.lists(WORDS, max_size=3))
                  if edited else st.just(HEADERS[0]))
    rows = [[f"{1949 + i // 12}-{i % 12 + 1:02d}", str(100 + 3 * i), str(i % 7)][:len(header)]
            for i in range(draw(st.one_of(st.integers(40, 144), st.integers(40, 144),
                                          st.sampled_from([0, 1, 17, 18, 19, 30]))))]
    for _ in range(draw(st.integers(0, 4)) if rows and edited else 0):
        at = draw(st.integers(0, len(rows) - 1))
        rows[at] = draw(edited_row(rows[at]))
    if edited and draw(st.integers(0, 4)) == 0:
        rows = draw(st.permutations(rows))
    sep = draw(st.sampled_from([","] * 5 + [";", "\t", " "])) if edited else ","
    newline = draw(st.sampled_from(["\n"] * 3 + ["\r\n", "\r"]))
    text = newline.join(sep.join(cells) for cells in [header] + rows) + newline
    data = text.encode(draw(st.sampled_from(ENCODINGS)) if edited else "utf-8", errors="replace")
    return draw(damaged_bytes(data)) if edited else data


SERIES_OVERRIDES = [
    "data.missing=interpolate", "data.missing=ffill", "data.transform=none",
    "data.transform=diff", "data.transform=log+diff", "data.scaler=minmax", "data.scaler=none",
    "data.date=", "data.freq=MS", "data.freq=D", "data.freq=XYZ", "data.date_format=%Y-%m",
    "data.dayfirst=true", "data.covariates=Extra", "data.covariates=Passengers",
    "data.covariates=Month", "data.target=Extra", "data.target=Passengers,Extra",
    "data.target=Month", "data.horizon=1", "data.horizon=200", "data.lookback=1",
    "data.lookback=500", "data.season=0", "data.season=1000", "data.strategy=recursive",
    "data.val_start=1958-01", "data.test_start=1960-01", "data.test_start=1940-01",
    "data.stride=100", "train.batch_size=1000", "data.val_fraction=0", "data.test_fraction=0"]

TEXT_OVERRIDES = [
    "data.max_chars=0", "data.max_chars=1", "data.max_chars=40", "data.max_chars=3000",
    "data.seq_len=1", "data.seq_len=2", "data.seq_len=500", "train.batch_size=1",
    "train.batch_size=64", "data.val_fraction=0", "data.test_fraction=0", "model.embedding=3",
    "run.prime=ab", "run.prime=\u00e9", "run.prime=\U0001f600", "train.eval_batches=1"]


@st.composite
def text_files(draw):
    """A text file: bytes, text in some encoding, a repeated pattern or a piece of Shakespeare."""
    kind = draw(st.sampled_from(["bytes", "text", "text", "repeat", "shakespeare"]))
    if kind == "bytes":
        return draw(st.binary(max_size=3000))
    if kind == "shakespeare":
        start = draw(st.integers(0, 5000))
        data = SHAKESPEARE.read_bytes()[start:start + draw(st.integers(0, 4000))]
        return draw(damaged_bytes(data))
    text = draw(st.text(CHARS, max_size=400 if kind == "text" else 5))
    text *= 1 if kind == "text" else draw(st.integers(1, 2000))
    return draw(damaged_bytes(text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")))


# ------------------------------------------------------------------------------ damaged runs

RUN_FILES = ["config.json", "meta.json", "summary.json", "metrics.csv", "checkpoints/best.npz",
             "checkpoints/best.json", "checkpoints/latest.npz", "checkpoints/latest.json",
             "forecast/forecast.json"]
#: What compare reads of a run.
REPORT_FILES = ["config.json", "summary.json", "metrics.csv", "forecast/forecast.json"]
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), WORDS,
                         st.sampled_from(EDGE_INTS), st.sampled_from(EDGE_FLOATS))
JSON_ANY = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(WORDS, inner, max_size=3)), max_leaves=6)


def _like(value):
    """Values of the JSON type of ``value`` (or any JSON value)."""
    if isinstance(value, bool) or value is None:
        return JSON_ANY
    if isinstance(value, int):
        return st.one_of(st.integers(), st.sampled_from(EDGE_INTS), JSON_ANY)
    if isinstance(value, float):
        return st.one_of(st.floats(), st.sampled_from(EDGE_FLOATS), JSON_ANY)
    if isinstance(value, str):
        return st.one_of(WORDS, JSON_ANY)
    return JSON_ANY


@st.composite
def edited(draw, value):
    """Decoded JSON ``value`` with one member, at any depth, replaced, removed or the whole."""
    keys = sorted(value) if isinstance(value, dict) else (
        list(range(len(value))) if isinstance(value, list) else [])
    if keys and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(keys))
        copy = dict(value) if isinstance(value, dict) else list(value)
        if draw(st.integers(0, 4)):
            copy[key] = draw(edited(value[key]))
        else:
            del copy[key]
        return copy
    return draw(_like(value))


@st.composite
def resaved(draw, stem):
    """Re-save checkpoint ``stem`` consistently (a valid file) with an array or its meta changed."""
    arrays, meta = load_checkpoint(stem)
    name = draw(st.sampled_from(sorted(arrays)))
    shapes = st.lists(st.integers(0, 5), max_size=3).map(tuple)
    kind = draw(st.sampled_from(["dtype", "shape", "drop", "add", "values", "meta", "meta"]))
    if kind == "dtype":
        arrays[name] = arrays[name].astype(draw(st.sampled_from(
            ["float64", "float16", "int32", "bool", "complex64", "uint8"])))
    elif kind == "shape":
        arrays[name] = np.resize(arrays[name], draw(shapes))
    elif kind == "drop":
        del arrays[name]
    elif kind == "add":
        arrays[draw(st.text(ARG_CHARS, min_size=1, max_size=8))] = np.zeros(draw(shapes))
    elif kind == "values":
        with np.errstate(invalid="ignore", over="ignore"):  # nan and inf into ints: anything
            arrays[name] = np.full_like(arrays[name], draw(st.sampled_from(EDGE_FLOATS)))
    else:
        meta = draw(edited(meta))
        meta = meta if isinstance(meta, dict) else {"meta": meta}
    save_checkpoint(stem, arrays, meta)


@st.composite
def edited_csv(draw, text):
    """The lines of a CSV file with a cell changed, a line dropped, doubled or moved."""
    lines = text.splitlines() or [""]
    at = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["cell", "cell", "drop", "double", "swap"]))
    if kind == "cell":
        cells = lines[at].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(
            st.one_of(st.sampled_from(ODD_CELLS), WORDS, typos(cells[0])))
        lines[at] = ",".join(cells)
    elif kind == "drop":
        del lines[at]
    elif kind == "double":
        lines.insert(at, lines[at])
    else:
        other = draw(st.integers(0, len(lines) - 1))
        lines[at], lines[other] = lines[other], lines[at]
    return "\n".join(lines) + "\n"


def _damages_of(name):
    kinds = ["bytes", "bytes", "remove"]
    if name.endswith(".json"):
        kinds += ["json", "json", "json", "deep"]
    if name.startswith("checkpoints/"):
        kinds += ["resave", "resave"]
    if name.endswith(".csv"):
        kinds += ["csv", "csv", "csv"]
    return kinds


@st.composite
def rewritten(draw, path, kind):
    """Rewrite the file ``path`` by ``kind`` (see :func:`damage`); False if it cannot be."""
    try:
        if kind == "deep":
            path.write_text(draw(RAW))
        elif kind == "resave":
            draw(resaved(path.with_suffix("")))
        elif kind == "csv":
            path.write_text(draw(edited_csv(path.read_text())))
        else:
            path.write_text(json_value(draw(edited(json.loads(path.read_text())))))
    except (ValueError, RecursionError):  # an earlier damage left it unreadable
        return False
    return True


@st.composite
def damage(draw, run, names=RUN_FILES):
    """Damage one of the files ``names`` of the run directory ``run``, in place."""
    existing = [name for name in names if (run / name).is_file()]
    if not existing:
        return
    name = draw(st.sampled_from(existing))
    path = run / name
    kind = draw(st.sampled_from(_damages_of(name)))
    if kind == "remove":
        path.unlink()
    elif kind == "bytes" or not draw(rewritten(path, kind)):
        path.write_bytes(draw(damaged_bytes(path.read_bytes())))


@st.composite
def run_paths(draw, case, run):
    """The run directory as a command is given it: mostly ``run``, sometimes no run at all."""
    odd = ["runs/nope", "runs", ".", "x" * 300, "~/nope", "/dev/null", "file.txt",
           f"{run}/config.json", f"{run}/"]
    path = draw(st.sampled_from([str(run)] * 12 + odd))
    if path == "file.txt":
        case.write(path, b"not a run")
    return path


# ------------------------------------------------------------------------------ options

INT_TEXTS = st.one_of(st.integers(-5, 300).map(str), st.sampled_from(
    ODD_NUMBERS + [str(2 ** 32), str(2 ** 64), "-1", "10" * 9]))
FLOAT_TEXTS = st.one_of(st.floats().map(repr), st.sampled_from(
    ODD_NUMBERS + ["1e-300", "1e300", "0", "0.8", "1", "2", "1e-5"]))
PRIMES = st.one_of(st.text(st.sampled_from("First Citizen:\n"), max_size=10), ARG_WORDS)
CHECKPOINT_NAMES = st.sampled_from(["best", "latest", "best", "latest", "first", ""])


@st.composite
def options(draw, choices):
    """Command-line options: flags of ``choices`` (flag -> strategy of its value, or None)."""
    argv = []
    for flag in draw(st.lists(st.sampled_from(sorted(choices)), max_size=4)):
        argv.append(flag)
        if choices[flag] is not None:
            argv.append(draw(choices[flag]))
    return argv


def sample_options(lengths=INT_TEXTS, checkpoints=CHECKPOINT_NAMES):
    """``sample``'s options, ``--length`` and ``--checkpoint`` drawn from the strategies given."""
    return options({"--length": lengths, "--temperature": FLOAT_TEXTS, "--prime": PRIMES,
                    "--seed": INT_TEXTS, "--argmax": None, "--checkpoint": checkpoints,
                    "--lenght": INT_TEXTS})


LEVELS = st.one_of(st.sampled_from(["80,95", "50", "0", "100", "80,", "abc", "99.9999", "80,80",
                                    "1e-300", "nan", "", "95,80", "80;95"]),
                   st.lists(st.floats(), min_size=1, max_size=3).map(
                       lambda values: ",".join(map(repr, values))))
OUTS = st.sampled_from(["out", "out", "runs", "file.txt", "x" * 300, "out/a/b", "~/nope", "."])


def forecast_options(steps=INT_TEXTS):
    """``forecast``'s options, ``--future`` drawn from ``steps``."""
    return options({"--checkpoint": CHECKPOINT_NAMES, "--out": OUTS, "--future": steps,
                    "--levels": LEVELS, "--futur": INT_TEXTS})


VARY = st.one_of(st.sampled_from(["model.cell=elman,lstm", "model.hidden=4,x", "train.seed=1,2",
                                  "run.dir=a,b", "model.cell=", "=", "model.cell=elman,elman",
                                  "model.hidden=4,4.0", "train.lr=0.1,1e-3", "model.cel=gru",
                                  "model.cell=elman,lstm,gru", "data.max_chars=100,1000"]),
                 override_texts().map(lambda text: text.replace("=", "=1,", 1)))
COMPARE_OPTIONS = {"--out": OUTS, "--seeds": INT_TEXTS, "--jobs": INT_TEXTS, "--vary": VARY,
                   "--gradients": None, "--no-gradients": None}


def damaged_run(data, case, name, names=RUN_FILES, at_most=2):
    """A copy of the finished run ``name`` with up to ``at_most`` files damaged."""
    run = case.run(name)
    for _ in range(data.draw(st.integers(0, at_most), label="damages")):
        data.draw(damage(run, names))
    return run


# ------------------------------------------------------------------------------ the properties

@budget(1.0)
@given(config_file=config_files(), overrides=st.lists(override_texts(), max_size=2))
def test_train_on_generated_config_files(trained, cases, config_file, overrides):
    name, content = config_file
    with folder(cases, trained) as case, stop_at_compile():
        check_contract("train", ["--config", case.write(name, content), *overrides], case)


@budget(1.0)
@given(kind=st.sampled_from(["text", "series"]), overrides=st.lists(override_texts(), max_size=4),
       flags=st.lists(st.sampled_from(TRAIN_OPTIONS), max_size=2))
def test_train_with_generated_overrides(trained, cases, kind, overrides, flags):
    base = ([TEXT_CFG, f"data.path={SHAKESPEARE}", "data.max_chars=1000"] if kind == "text"
            else [SERIES_CFG, f"data.path={AIRLINE}"])
    argv = ["--config", *base, *TINY, "run.dir=runs", *overrides, *sum(flags, [])]
    with folder(cases, trained) as case, stop_at_compile():
        check_contract("train", argv, case)


@budget(0.8)
@given(content=csv_files(), overrides=st.lists(st.sampled_from(SERIES_OVERRIDES), max_size=3))
def test_train_on_generated_csv_files(trained, cases, content, overrides):
    with folder(cases, trained) as case, stop_at_compile():
        case.write("data.csv", content)
        check_contract("train", ["--config", SERIES_CFG, "data.path=data.csv", "run.dir=runs",
                                 *TINY, *overrides], case)


@budget(0.6)
@given(content=text_files(), overrides=st.lists(st.sampled_from(TEXT_OVERRIDES), max_size=3))
def test_train_on_generated_text_files(trained, cases, content, overrides):
    with folder(cases, trained) as case, stop_at_compile():
        case.write("data.txt", content)
        check_contract("train", ["--config", TEXT_CFG, "data.path=data.txt", "run.dir=runs",
                                 *TINY, *overrides], case)


@budget(0.8)
@given(kind=st.sampled_from(["text", "series"]), data=st.data())
def test_resume_of_damaged_runs(trained, cases, kind, data):
    with folder(cases, trained) as case, stop_at_compile():
        run = damaged_run(data, case, kind)
        overrides = data.draw(st.lists(override_texts(train.RESUME_KEYS + ("model.hidden",)),
                                       max_size=2))
        check_contract("train", ["--resume", data.draw(run_paths(case, run)), *overrides], case)


@budget(2.7)
@given(kind=st.sampled_from(["text"] * 5 + ["series"]), argv=sample_options(), data=st.data())
def test_sample_of_damaged_runs(trained, cases, kind, argv, data):
    with folder(cases, trained) as case, stop_at_compile():
        run = damaged_run(data, case, kind)
        check_contract("sample", [data.draw(run_paths(case, run)), *argv], case)


@budget(3.0)
@given(kind=st.sampled_from(["series"] * 5 + ["text"]), argv=forecast_options(),
       data=st.data())
def test_forecast_of_damaged_runs(trained, cases, kind, argv, data):
    with folder(cases, trained) as case, stop_at_compile():
        run = damaged_run(data, case, kind)
        case.write("file.txt", b"not a folder")
        check_contract("forecast", [data.draw(run_paths(case, run)), *argv], case)


@contextlib.contextmanager
def no_plots():
    """Draw no plots (matplotlib's seconds); the ``*_to_the_end`` properties draw them."""
    def plot(*args, **kwargs):
        return None
    with mock.patch.multiple(plots, plot_overlay=plot, plot_gradient_vs_lag=plot):
        yield


@st.composite
def compared_runs(draw, case):
    """Run directories for compare: copies of finished runs (their report files damaged)."""
    runs = []
    for name in draw(st.lists(st.sampled_from(["text", "text", "series", "other", "odd"]),
                              min_size=1, max_size=3)):
        if name == "odd":
            runs.append(draw(run_paths(case, case.runs / "nope")))
            continue
        run = case.run(name, "text" if name == "other" else name)
        for _ in range(draw(st.integers(0, 2))):
            draw(damage(run, REPORT_FILES))
        runs.append(str(run))
    return runs


@budget(2.0)
@given(data=st.data(), argv=options(COMPARE_OPTIONS))
def test_compare_of_damaged_runs(trained, cases, data, argv):
    with folder(cases, trained) as case, stop_at_compile(), no_plots():
        case.write("file.txt", b"not a folder")
        check_contract("compare", [*data.draw(compared_runs(case)), *argv], case)


@budget(1.0)
@given(kind=st.sampled_from(["text", "series"]), config_file=st.one_of(st.none(), config_files()),
       overrides=st.lists(override_texts(), max_size=2), argv=options(COMPARE_OPTIONS))
def test_compare_of_generated_grids(trained, cases, kind, config_file, overrides, argv):
    base = ([TEXT_CFG, f"data.path={SHAKESPEARE}", "data.max_chars=1000"] if kind == "text"
            else [SERIES_CFG, f"data.path={AIRLINE}"])
    with folder(cases, trained) as case, stop_at_compile(), no_plots():
        case.write("file.txt", b"not a folder")
        if config_file is not None:
            base[0] = case.write(*config_file)
        check_contract("compare", ["--config", *base, *TINY, "run.dir=runs", *overrides, *argv],
                       case)


# ------------------------------------------------------------------------------ to the end

@pytest.fixture(scope="module")
def sessions(trained):
    """``load_run`` that loads each finished run's checkpoint once, by the copy's name.

    Only for the ``*_to_the_end`` properties, whose copies are undamaged: loading a copy again
    would build the same session and compile the same functions.
    """
    @functools.cache
    def load(name, which):
        return load_run(trained[name], which=which)
    return lambda run_dir, which="best": load(Path(run_dir).name, which)


ACCEPTED_TRAIN = {
    "train.seed": st.one_of(st.integers(0, 2 ** 32 - 1), st.sampled_from([0, 2 ** 32 - 1])),
    "train.lr": st.sampled_from([1e-300, 1e-8, 0.01, 10.0, 1e6, 1e30, 1.7e308]),
    "run.temperature": st.sampled_from([5e-324, 1e-300, 1e-5, 1.0, 1e5, 1e300]),
    "run.sample_length": st.integers(1, 30), "run.prime": PRIMES,
    # Any text: the run's name is the title of its learning curves too, where a character the
    # font lacks (a tab, most scripts, emoji) is drawn as a box, without a warning.
    "run.name": st.one_of(st.text(CHARS, max_size=10),
                          st.sampled_from(["n" * 255, "n" * 256, ".hidden", "-x"])),
    "data.seq_len": st.integers(1, 20), "train.batch_size": st.integers(1, 8),
    "train.max_grad_norm": st.sampled_from([0.0, 1e-300, 1.0, 1e300]),
    "train.explode_factor": st.sampled_from([1.0000001, 10.0, 1e300]),
    "train.on_divergence": st.sampled_from(["stop", "halve"]),
}


@st.composite
def accepted_overrides(draw):
    """Overrides of the tiny text model that change no compiled graph, by values at the edges."""
    keys = draw(st.lists(st.sampled_from(sorted(ACCEPTED_TRAIN)), min_size=1, max_size=4,
                         unique=True))
    return [f"{key}={draw(ACCEPTED_TRAIN[key])}" for key in keys]


@budget(0.03)
@given(overrides=accepted_overrides())
def test_train_to_the_end(trained, cases, overrides):
    argv = ["--config", TEXT_CFG, f"data.path={SHAKESPEARE}", "data.max_chars=1000", *TINY,
            "train.max_steps=1", "run.dir=runs", *overrides]
    with folder(cases, trained) as case:
        check_contract("train", argv, case, success=(0, 1))


@budget(0.3)
@given(argv=sample_options(lengths=st.integers(-2, 40).map(str), checkpoints=st.just("best")),
       path=st.sampled_from(["runs/text", "runs/text/"]))
def test_sample_to_the_end(trained, cases, sessions, argv, path):
    with folder(cases, trained) as case, mock.patch.object(sample, "load_run", sessions):
        case.run("text")
        check_contract("sample", [path, *argv], case)


@budget(0.03)
@given(argv=forecast_options(steps=st.integers(-1, 30).map(str)))
def test_forecast_to_the_end(trained, cases, sessions, argv):
    with folder(cases, trained) as case, mock.patch.object(forecast, "load_run", sessions):
        case.run("series")
        case.write("file.txt", b"not a folder")
        check_contract("forecast", ["runs/series", *argv], case)


@budget(0.03)
@given(names=st.lists(st.sampled_from(["text", "other"]), min_size=1, max_size=2),
       argv=options({"--out": OUTS, "--no-gradients": None}))
def test_compare_to_the_end(trained, cases, names, argv):
    with folder(cases, trained) as case:
        runs = [case.run(name, "text") for name in names]
        check_contract("compare", [*runs, *argv], case)
