"""Bad inputs through the real commands: one line ``error: ...``, exit code 2, nothing written.

Every case of the table below runs one command (``rnnlab.train``, ``.sample``, ``.forecast`` or
``.compare``) on a bad config, CSV, text or checkpoint and checks: exactly one line on stderr,
starting with ``error:`` and naming the offending file, field or value; exit code 2; nothing on
stdout; no traceback; and not one file created, removed or changed under the case's folder,
which holds a copy of a finished run (so "no file changed in any existing run directory"
covers the run a bad ``--resume``, ``sample`` or ``forecast`` reads).

The cases run in-process through :func:`rnnlab.commands.cli.run_command`, exactly as ``python -m``
does; a few run as real subprocesses too, to show the exit code and the absence of a traceback
end to end.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from rnnlab import config, training
from rnnlab.commands import compare, forecast, sample, train
from rnnlab.commands.cli import run_command
from rnnlab.run import RunDir
from rnnlab.run.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TEXT_CFG = ROOT / "experiments" / "smoke_text.toml"
SERIES_CFG = ROOT / "experiments" / "smoke_series.toml"
SHAKESPEARE = ROOT / "data" / "shakespeare.txt"
AIRLINE = ROOT / "data" / "airline_passengers.csv"
COMMANDS = {"train": train.main, "sample": sample.main, "forecast": forecast.main,
            "compare": compare.main}
TINY = ["model.cell=elman", "model.hidden=4", "train.max_steps=2", "train.eval_every=1",
        "run.sample_length=5", "run.progress=false"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Finished runs to copy and corrupt: text (hidden 4), text (hidden 6) and series."""
    root = tmp_path_factory.mktemp("trained")
    specs = {"text": (TEXT_CFG, SHAKESPEARE, ["data.max_chars=1000"]),
             "text6": (TEXT_CFG, SHAKESPEARE, ["data.max_chars=1000", "model.hidden=6"]),
             "series": (SERIES_CFG, AIRLINE, [])}
    runs = {}
    for name, (path, data, extra) in specs.items():
        cfg = config.load(path, [f"data.path={data}", f"run.dir={root}", f"run.name={name}",
                                 *TINY, *extra])
        runs[name] = Path(training.train(cfg, out=lambda line: None)["run_dir"])
    return runs


# ------------------------------------------------------------------------------ the cases

@dataclass
class Case:
    """One bad input: the command, its arguments and what the error line must contain.

    ``argv`` and ``fragment`` may use ``{tmp}`` (the case's folder), ``{run}`` (the
    copy of the finished run ``run`` in ``{tmp}/runs``), ``{runs}`` and ``{root}`` (the
    project).  ``corrupt(run_dir, trained)`` damages the copied run before the command runs.
    """

    id: str
    command: str
    argv: list
    fragment: str
    files: dict = field(default_factory=dict)
    corrupt: object = None
    run: str = "text"


def config_case(id, toml, fragment, *overrides):
    """``train --config bad.toml`` on the bundled Shakespeare text."""
    return Case(id, "train", ["--config", "{tmp}/bad.toml", f"data.path={SHAKESPEARE}",
                              *overrides, "run.dir={runs}"], fragment, files={"bad.toml": toml})


def override_case(id, fragment, *overrides):
    """``train --config smoke_text.toml`` with bad ``section.key=value`` overrides."""
    return Case(id, "train", ["--config", str(TEXT_CFG), f"data.path={SHAKESPEARE}", *overrides,
                              "run.dir={runs}"], fragment)


def _csv(rows=60, header="Month,Passengers", edit=None, sep=","):
    lines = [f"{1949 + i // 12}-{i % 12 + 1:02d}{sep}{100 + 3 * i}" for i in range(rows)]
    if edit:
        edit(lines)
    return (header + "\n" + "\n".join(lines) + "\n").encode()


def _times(factor):
    """A ``_csv`` edit: every value multiplied by ``factor``."""
    def edit(lines):
        lines[:] = [f"{line.split(',')[0]},{float(line.split(',')[1]) * factor!r}"
                    for line in lines]
    return edit


def csv_case(id, content, fragment, *overrides):
    """``train --config smoke_series.toml`` on a bad CSV file ``{tmp}/data.csv``."""
    return Case(id, "train", ["--config", str(SERIES_CFG), "data.path={tmp}/data.csv",
                              *overrides, "run.dir={runs}"], fragment,
                files={"data.csv": content})


def text_case(id, content, fragment, *overrides):
    """``train --config smoke_text.toml`` on a bad text file ``{tmp}/data.txt``."""
    return Case(id, "train", ["--config", str(TEXT_CFG), "data.path={tmp}/data.txt", *overrides,
                              "run.dir={runs}"], fragment, files={"data.txt": content})


def _set(lines, index, text):
    lines[index] = text


def _swap(lines, a, b):
    lines[a], lines[b] = lines[b], lines[a]


CONFIG_CASES = [
    config_case("unknown-key", "[model]\ncel = 'gru'\n",
                "bad.toml: unknown key 'model.cel' (did you mean 'model.cell'?)"),
    config_case("unknown-section", "[modle]\ncell = 'gru'\n",
                "bad.toml: unknown section 'modle' (did you mean 'model'?)"),
    config_case("key-outside-section", "cell = 'gru'\n", "bad.toml: unknown key 'cell'"),
    config_case("string-for-int", "[model]\nhidden = 'big'\n",
                "bad.toml: model.hidden = 'big': expected an integer"),
    config_case("float-for-int", "[model]\nhidden = 4.5\n",
                "bad.toml: model.hidden = 4.5: expected an integer"),
    config_case("bool-for-int", "[train]\nbatch_size = true\n",
                "bad.toml: train.batch_size = True: expected an integer"),
    config_case("list-for-string", "[model]\ncell = ['lstm']\n",
                "bad.toml: model.cell = ['lstm']: expected a string"),
    config_case("negative-hidden", "[model]\nhidden = -4\n",
                "bad.toml: model.hidden = -4: expected"),
    config_case("nan-lr", "[train]\nlr = nan\n", "bad.toml: train.lr = nan: expected a finite"),
    config_case("section-not-table", "model = 3\n", "bad.toml: 'model' = 3: expected a table"),
    config_case("invalid-toml", "[model\ncell = 'gru'\n", "bad.toml: line 1"),
    config_case("undecodable-toml", b"[model]\ncell = '\xff\xfe'\n",
                "bad.toml: byte 16 is not valid UTF-8"),
    config_case("fractions-sum-to-one", "[data]\nval_fraction = 0.5\ntest_fraction = 0.5\n",
                "data.val_fraction + data.test_fraction = 0.5 + 0.5: expected a sum < 1"),
    config_case("toml-nested-too-deep", "[model]\nhidden = " + "[" * 3000 + "]" * 3000 + "\n",
                "bad.toml: invalid TOML: arrays or inline tables nested too deeply"),
    config_case("toml-int-too-long", "[model]\nhidden = 1" + "0" * 5000 + "\n",
                "bad.toml: invalid TOML: Exceeds the limit (4300 digits) for integer string"),
    config_case("toml-hex-int-too-long", "[model]\nhidden = 0x" + "f" * 5000 + "\n",
                "bad.toml: model.hidden = an integer of more than 4300 digits"),
    Case("json-config-nested-too-deep", "train", ["--config", "{tmp}/bad.json", "run.dir={runs}"],
         "bad.json: invalid JSON: arrays or objects nested too deeply",
         files={"bad.json": '{"model": ' + "[" * 100000 + "]" * 100000 + "}"}),
    Case("json-config-wrong-type", "train", ["--config", "{tmp}/bad.json", "run.dir={runs}"],
         "bad.json: model.hidden = 'x': expected an integer",
         files={"bad.json": '{"model": {"hidden": "x"}}'}),
    Case("config-file-missing", "train", ["--config", "{tmp}/nope.toml", "run.dir={runs}"],
         "nope.toml: config file not found"),
    Case("config-is-a-directory", "train", ["--config", "{tmp}/runs", "run.dir={runs}"],
         "runs: cannot read the config file"),
    override_case("wrong-type-override", "train.lr = 'fast': expected a number", "train.lr=fast"),
    override_case("bad-bool", "run.progress = 'maybe': expected true or false",
                  "run.progress=maybe"),
    override_case("zero-batch", "train.batch_size = 0: expected a positive integer",
                  "train.batch_size=0"),
    override_case("absurd-hidden", "model.hidden = 100000000: expected an integer from 1 to",
                  "model.hidden=100000000"),
    override_case("absurd-batch", "too few for batch_size=1000000000",
                  "train.batch_size=1000000000"),
    Case("nul-in-run-dir", "train", ["--config", str(TEXT_CFG), f"data.path={SHAKESPEARE}",
                                     "run.dir={runs}/ru\0ns"], "run.dir = "),
    override_case("nul-in-run-name", "run.name", "run.name=a\0b"),
    override_case("absurd-sample-length",
                  "run.sample_length = 1000000000000: expected an integer from 1 to 1000000",
                  "run.sample_length=1000000000000"),
    override_case("absurd-embedding", "model.embedding = 100000000: expected an integer from 0 to",
                  "model.embedding=100000000"),
    override_case("absurd-seq-len", "too few for batch_size=4 and seq_len=1000000000",
                  "data.seq_len=1000000000"),
    override_case("zero-eval-every", "train.eval_every = 0: expected a positive integer",
                  "train.eval_every=0"),
    override_case("seed-beyond-numpy", "train.seed = 4294967296: expected an integer from 0 to "
                  "4294967295", "train.seed=4294967296"),
    override_case("int-with-underscore", "model.hidden = '1_0': expected an integer",
                  "model.hidden=1_0"),
    override_case("int-in-arabic-digits", "model.hidden = '\u0661\u0662': expected an integer",
                  "model.hidden=\u0661\u0662"),
    override_case("float-with-underscore", "train.lr = '1_0.5': expected a number",
                  "train.lr=1_0.5"),
    override_case("fraction-above-one", "data.val_fraction = 1.5: expected a number in [0, 1)",
                  "data.val_fraction=1.5"),
    override_case("negative-lr", "train.lr = -0.1: expected a number > 0", "train.lr=-0.1"),
    override_case("zero-layers", "model.layers = 0: expected an integer from 1 to 3",
                  "model.layers=0"),
    override_case("cell-typo", "model.cell = 'lstn': expected one of", "model.cell=lstn"),
    override_case("unknown-mode", "device.mode = 'FASTER': expected one of",
                  "device.mode=FASTER"),
    override_case("override-without-value", "override 'model.cell': expected section.key=value",
                  "model.cell"),
    override_case("run-name-with-slash", "run.name = 'a/b': expected a directory name",
                  "run.name=a/b"),
    override_case("zero-gradient-steps", "model.gradient_steps = 0: expected -1",
                  "model.gradient_steps=0"),
    override_case("negative-time-budget", "train.time_budget = -1.0: expected a number >= 0",
                  "train.time_budget=-1"),
    override_case("explode-factor-one", "train.explode_factor = 1.0: expected a number > 1",
                  "train.explode_factor=1"),
    override_case("data-file-missing", "data.path = '{tmp}/nope.txt': file not found",
                  "data.path={tmp}/nope.txt"),
    override_case("data-path-is-a-directory", "data.path = '{tmp}': expected a file, not a "
                  "directory or a pattern", "data.kind=series", "data.target=y",
                  "data.path={tmp}"),
    Case("data-path-is-an-empty-folder", "train",
         ["--config", str(TEXT_CFG), "data.path={tmp}/notes", "run.dir={runs}"],
         "data.path = '{tmp}/notes': the folder holds no file", files={"notes/.hidden": "x"}),
    Case("split-by-file-too-few-files", "train",
         ["--config", str(TEXT_CFG), "data.path={tmp}/notes", "data.split_by=file",
          "data.max_chars=0", "run.dir={runs}"],
         "data.split_by = 'file' needs at least 3 files (train, val, test: one each); found 2",
         files={"notes/a.txt": "abcabc" * 50, "notes/b.txt": "cbacba" * 50, "notes/c.txt": ""}),
    override_case("data-path-pattern-matches-nothing", "data.path = '{tmp}/*.none': no file "
                  "matches the pattern", "data.path={tmp}/*.none"),
    override_case("split-by-file-with-one-file", "data.split_by = 'file' needs at least 3 files",
                  "data.split_by=file"),
    override_case("series-without-target", "data.target = '': expected the name of the column",
                  "data.kind=series", f"data.path={AIRLINE}", "data.target="),
    override_case("prime-outside-vocabulary", "run.prime = '\u20ac'", "run.prime=\u20ac"),
    override_case("seq-len-too-long-for-data", "too few", "data.max_chars=1000",
                  "data.seq_len=5000"),
    Case("resume-not-a-run", "train", ["--resume", "{tmp}/nothing"],
         "nothing: no such run directory"),
    Case("resume-name-too-long", "train", ["--resume", "{tmp}/" + "r" * 300],
         "r: no such run directory (File name too long)"),
    Case("resume-and-config", "train", ["--resume", "{run}", "--config", str(TEXT_CFG)],
         "give --config or --resume, not both"),
    Case("resume-changes-the-model", "train", ["--resume", "{run}", "model.hidden=8"],
         "model.hidden=8: model.hidden cannot change when resuming"),
]

CSV_CASES = [
    csv_case("csv-empty", b"", "data.csv: the file is empty"),
    csv_case("csv-header-only", b"Month,Passengers\n",
             "data.csv: the file has a header but no data rows"),
    csv_case("csv-whitespace-only", b"\n\n\n", "data.csv: the file is empty"),
    csv_case("csv-wrong-delimiter", _csv(header="Month;Passengers", sep=";"),
             "data.csv: column 'Passengers' not found"),
    csv_case("csv-missing-target", _csv(header="Month,Pass"), "column 'Passengers' not found"),
    csv_case("csv-missing-date", _csv(header="Date,Passengers"), "column 'Month' not found"),
    csv_case("csv-missing-covariate", _csv(), "column 'Temp' not found", "data.covariates=Temp"),
    csv_case("csv-text-in-number", _csv(edit=lambda l: _set(l, 7, "1949-08,lots")),
             "data.csv: row 8 (Month=1949-08), column 'Passengers'"),
    csv_case("csv-nan", _csv(edit=lambda l: _set(l, 3, "1949-04,nan")),
             "data.csv: row 4 (Month=1949-04), column 'Passengers'"),
    csv_case("csv-inf", _csv(edit=lambda l: _set(l, 3, "1949-04,inf")),
             "data.csv: row 4 (Month=1949-04), column 'Passengers'"),
    csv_case("csv-empty-cell", _csv(edit=lambda l: _set(l, 5, "1949-06,")),
             "data.csv: row 6 (Month=1949-06), column 'Passengers'"),
    csv_case("csv-unsorted-dates", _csv(edit=lambda l: _swap(l, 10, 11)),
             "data.csv: row 12 (Month=1949-11), column 'Month': '1949-11' comes after"),
    csv_case("csv-duplicate-dates", _csv(edit=lambda l: _set(l, 11, l[10][:7] + ",400")),
             "data.csv: row 12"),
    csv_case("csv-bad-date", _csv(edit=lambda l: _set(l, 2, "1949-13,105")),
             "data.csv: row 3 (Month=1949-13), column 'Month': '1949-13' is not a date"),
    csv_case("csv-too-short", _csv(rows=8),
             "data.csv: the series has 8 rows; it needs at least lookback + horizon = 18"),
    csv_case("csv-one-row", _csv(rows=1), "data.csv: the series has 1 rows"),
    csv_case("csv-ragged-row", _csv(edit=lambda l: _set(l, 4, "1949-05,112,7,8")),
             "data.csv: not a readable CSV file (Error tokenizing data. C error: Expected 2 "
             "fields in line 6, saw 4)"),
    csv_case("csv-unbalanced-quote", _csv(edit=lambda l: _set(l, 4, '1949-05,"112')),
             "data.csv: not a readable CSV file"),
    csv_case("csv-undecodable", _csv().replace(b"1949-05,112", b"1949-05,11\xff2"),
             "data.csv: not a readable CSV file"),
    csv_case("csv-binary-garbage", bytes(range(256)) * 4, "data.csv: not a readable CSV file"),
    csv_case("csv-zero-under-log", _csv(edit=lambda l: _set(l, 2, "1949-03,0")),
             "data.csv: the log transform needs positive values; row 3, column 1 is 0.0"),
    csv_case("csv-negative-under-log", _csv(edit=lambda l: _set(l, 2, "1949-03,-5")),
             "data.csv: the log transform needs positive values; row 3, column 1 is -5.0"),
    csv_case("csv-values-near-1e300", _csv(edit=_times(1e298)),
             "data.csv: the training rows reach 2.05e+300; expected magnitudes up to 1e+150",
             "data.transform=none"),
    csv_case("csv-values-near-1e300-minmax", _csv(edit=_times(1e298)),
             "data.csv: the training rows reach 2.05e+300;", "data.scaler=minmax"),
    csv_case("csv-values-beyond-1e150-in-the-test-part-only", _csv(edit=lambda l: l.append(
        "1954-01,1e200")), "data.csv: the rows reach 1e+200; expected magnitudes up to 1e+150"),
    csv_case("csv-target-also-a-covariate", _csv(), "data.target/data.covariates/data.date: "
             "column(s) 'Passengers' named twice", "data.covariates=Passengers"),
    csv_case("csv-target-also-the-date", _csv(), "column(s) 'Month' named twice",
             "data.target=Month"),
    csv_case("csv-batch-beyond-the-windows", _csv(), "data.csv: 19 training windows "
             "(data.lookback = 12, data.horizon = 6, data.stride = 1) are too few for "
             "train.batch_size = 1000", "train.batch_size=1000"),
    csv_case("csv-stride-beyond-the-data", _csv(), "data.csv: 1 training windows (data.lookback "
             "= 12, data.horizon = 6, data.stride = 1000000)", "data.stride=1000000"),
    csv_case("csv-constant-target", _csv(edit=lambda l: l.__setitem__(
        slice(None), [f"{row[:7]},100" for row in l])),
             "data.csv: target 'Passengers' does not change at lag data.season = 12"),
]

TEXT_CASES = [
    text_case("text-empty", b"", "data.txt: the file is empty"),
    text_case("text-undecodable", b"abc def\n" * 50 + b"caf\xe9\n",
              "data.txt: byte 403 (0xe9, line 51)"),
    text_case("text-latin-1", "caf\u00e9 na\u00efve ".encode("latin-1") * 100,
              "data.txt: byte 3 (0xe9, line 1) is not"),
    text_case("text-byte-order-mark-only", b"\xef\xbb\xbf", "data.txt: the file holds only"),
    text_case("text-one-repeated-character", b"a" * 5000,
              "data.txt: the first data.max_chars = 3000 characters repeat one character ('a')"),
    text_case("text-one-repeated-newline", b"\n" * 5000, "repeat one character ('\\n')"),
    text_case("text-too-short", b"to be or not to be",
              "data.txt (training part): 14 ids are too few for batch_size=4 and seq_len=16"),
    text_case("text-too-short-after-max-chars", SHAKESPEARE.read_bytes()[:5000],
              "data.txt (training part): 32 ids are too few", "data.max_chars=40"),
    text_case("text-nul-bytes", b"\x00" * 3000, "repeat one character ('\\x00')"),
]


# -- checkpoint and run-directory damage --------------------------------------------------------

def _truncate(name, keep=0.5):
    def corrupt(run, trained):
        path = run / "checkpoints" / name
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * keep)])
    return corrupt


def _pickle_npz(which):
    def corrupt(run, trained):
        npz = checkpoint_paths(run / "checkpoints" / which)[0]
        arrays = dict(np.load(npz))
        arrays["param/out.b"] = np.array([{"evil": 1}], dtype=object)
        np.savez(npz, **arrays)
    return corrupt


def _other_model(source, which):
    def corrupt(run, trained):
        for path in checkpoint_paths(trained[source] / "checkpoints" / which):
            shutil.copy(path, run / "checkpoints" / path.name)
    return corrupt


def _resave(which, change):
    """Re-save a checkpoint consistently (a valid file) with its arrays changed."""
    def corrupt(run, trained):
        stem = run / "checkpoints" / which
        arrays, meta = load_checkpoint(stem)
        change(arrays, meta)
        save_checkpoint(stem, arrays, meta)
    return corrupt


def _edit_json(name, change):
    def corrupt(run, trained):
        path = run / name
        data = json.loads(path.read_text())
        data = change(data) or data
        path.write_text(json.dumps(data))
    return corrupt


def _write(name, content):
    def corrupt(run, trained):
        path = run / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return corrupt


def _remove(name):
    return lambda run, trained: (run / name).unlink()


def _flip_bit(name):
    def corrupt(run, trained):
        path = run / "checkpoints" / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x08
        path.write_bytes(bytes(data))
    return corrupt


def _float64(arrays, meta):
    for name in arrays:
        if name.startswith("param/"):
            arrays[name] = arrays[name].astype("float64")


def _npy_instead(run, trained):
    with open(run / "checkpoints" / "best.npz", "wb") as handle:
        np.save(handle, np.zeros(3))


def _extra_member(run, trained):
    npz = run / "checkpoints" / "best.npz"
    with zipfile.ZipFile(npz, "a") as zf:
        zf.writestr("extra.txt", b"not an array")


def sample_case(id, corrupt, fragment, *extra, run="text"):
    return Case(id, "sample", ["{run}", *extra], fragment, corrupt=corrupt, run=run)


def resume_case(id, corrupt, fragment):
    return Case(id, "train", ["--resume", "{run}"], fragment, corrupt=corrupt)


def forecast_case(id, corrupt, fragment, *extra):
    return Case(id, "forecast", ["{run}", *extra], fragment, corrupt=corrupt, run="series")


CHECKPOINT_CASES = [
    sample_case("npz-truncated", _truncate("best.npz"),
                "checkpoints/best.npz: unreadable"),
    sample_case("npz-empty", _truncate("best.npz", 0),
                "checkpoints/best.npz: unreadable (BadZipFile"),
    sample_case("npz-pickle", _pickle_npz("best"), "checkpoints/best.npz: holds pickled data"),
    sample_case("npz-bit-flip", _flip_bit("best.npz"), "checkpoints/best.npz: unreadable"),
    sample_case("npz-single-array", _npy_instead,
                "checkpoints/best.npz: holds a single array, not named arrays"),
    sample_case("npz-extra-member", _extra_member,
                "checkpoints/best.npz: member 'extra.txt' is not an .npy array"),
    sample_case("npz-missing", _remove("checkpoints/best.npz"),
                "checkpoints/best.npz: checkpoint arrays not found"),
    sample_case("checkpoint-json-missing", _remove("checkpoints/best.json"),
                "no 'best' checkpoint in {run}/checkpoints; expected best.npz and best.json"),
    sample_case("checkpoint-json-garbage", _write("checkpoints/best.json", "{]"),
                "checkpoints/best.json: invalid JSON"),
    sample_case("checkpoint-json-nested-too-deep",
                _write("checkpoints/best.json", "[" * 100000 + "]" * 100000),
                "checkpoints/best.json: invalid JSON: arrays or objects nested too deeply"),
    sample_case("checkpoint-json-int-too-long", _write("checkpoints/best.json", "1" * 5000),
                "checkpoints/best.json: invalid JSON: Exceeds the limit (4300 digits)"),
    sample_case("checkpoint-json-future", _edit_json("checkpoints/best.json",
                                                     lambda h: h.update(version=99)),
                "checkpoints/best.json: checkpoint version 99"),
    sample_case("checkpoint-wrong-shapes", _other_model("text6", "best"),
                "checkpoints/best.npz: array 'param/rec0.W_in_to_hid' has shape (8, 6); the "
                "model expects (8, 4)"),
    sample_case("checkpoint-other-model", _other_model("series", "best"),
                "checkpoints/best.npz: array 'param/embed.W' is missing; the model lists it"),
    sample_case("checkpoint-float64", _resave("best", _float64),
                "checkpoints/best.npz: array 'param/embed.W' has dtype float64; the model "
                "expects float32"),
    sample_case("checkpoint-missing-array", _resave("best", lambda a, m: a.pop("param/out.b")),
                "checkpoints/best.npz: array 'param/out.b' is missing"),
    sample_case("checkpoint-extra-array", _resave("best", lambda a, m: a.update(x=np.ones(2))),
                "checkpoints/best.npz: unexpected array 'x'"),
    sample_case("run-config-garbage", _write("config.json", b"\x00\x01"),
                "runs/text/config.json: invalid JSON at line 1, column 1"),
    sample_case("run-config-unknown-key",
                _edit_json("config.json", lambda c: c["model"].update(cel="gru")),
                "config.json: unknown key 'model.cel'"),
    sample_case("run-config-run-section-null",
                _edit_json("config.json", lambda c: c.update(run=None)),
                "runs/text/config.json: 'run' = None: expected a table [run] of keys"),
    sample_case("run-config-prime-null",
                _edit_json("config.json", lambda c: c["run"].update(prime=None)),
                "runs/text/config.json: run.prime = None: expected a string"),
    sample_case("run-meta-missing", _remove("meta.json"), "meta.json: file not found"),
    sample_case("run-meta-vocabulary-damaged",
                _edit_json("meta.json", lambda m: m.update(vocabulary={"chars": 3})),
                "runs/text/meta.json: 'vocabulary': expected a JSON object with format"),
    sample_case("run-meta-not-an-object", _write("meta.json", "[1, 2]"),
                "runs/text/meta.json: holds a JSON array; expected a JSON object"),
    sample_case("sample-a-series-run", None, "sample needs a text run", run="series"),
    sample_case("prime-outside-vocabulary-sample", None, "prime: character '\u20ac'",
                "--prime", "\u20ac"),
    sample_case("temperature-zero", None, "--temperature: expected a number > 0", "--temperature",
                "0"),
    sample_case("negative-length", None, "--length: expected an int >= 0", "--length", "-3"),
    sample_case("length-beyond-the-cap", None, "--length: 1,000,000,000,000 characters is more "
                "than the cap of 1,000,000", "--length", str(10**12)),
    sample_case("length-beyond-a-lower-cap", None, "--length: 300 characters is more than the "
                "cap of 100", "--length", "300", "--max-length", "100"),
    sample_case("zero-cap", None, "--max-length: expected an int >= 1", "--max-length", "0"),
    resume_case("resume-npz-truncated", _truncate("latest.npz", 0.7),
                "checkpoints/latest.npz: unreadable"),
    resume_case("resume-npz-pickle", _pickle_npz("latest"),
                "checkpoints/latest.npz: holds pickled data"),
    resume_case("resume-wrong-shapes", _other_model("text6", "latest"),
                "checkpoints/latest.npz: array 'param/rec0.W_in_to_hid' has shape (8, 6)"),
    resume_case("resume-json-missing", _remove("checkpoints/latest.json"),
                "checkpoints/latest.json: checkpoint metadata not found"),
    resume_case("resume-loop-state-missing",
                _resave("latest", lambda a, m: m.pop("loop")),
                "checkpoints/latest.json: meta lacks 'loop' (an object)"),
    resume_case("resume-loop-state-unknown-field",
                _resave("latest", lambda a, m: m["loop"].update(speed=3)),
                "checkpoints/latest.json: loop state has unknown field 'speed'"),
    resume_case("resume-loop-state-wrong-type",
                _resave("latest", lambda a, m: m["loop"].update(step="two")),
                "checkpoints/latest.json: loop state step = 'two': expected an integer >= 0"),
    resume_case("resume-loop-negative-lr-scale",
                _resave("latest", lambda a, m: m["loop"].update(lr_scale=-1.0)),
                "checkpoints/latest.json: loop state lr_scale = -1.0: expected a number in "
                "(0, 1]"),
    resume_case("resume-loop-step-beyond-any-run",
                _resave("latest", lambda a, m: m["loop"].update(step=10**30)),
                "checkpoints/latest.json: loop state step = 10000000000000000000000000000"
                "00: expected at most 2**53"),
    resume_case("resume-loop-best-loss-infinite",
                _resave("latest", lambda a, m: m["loop"].update(best_val=float("inf"))),
                "checkpoints/latest.json: loop state best_val = inf: expected a finite "
                "number or null"),
    resume_case("resume-loop-best-step-ahead",
                _resave("latest", lambda a, m: m["loop"].update(best_step=m["loop"]["step"]
                                                                 + 1)),
                "checkpoints/latest.json: loop state best_step = "),
    resume_case("resume-loop-data-position-beyond-the-data",
                _resave("latest", lambda a, m: m["loop"].update(index=10**6)),
                "checkpoints/latest.json: loop state index = 1000000: expected a batch "
                "position below "),
    resume_case("resume-random-state-damaged",
                _resave("latest", lambda a, m: m.update(random_state="x")),
                "checkpoints/latest.json: meta lacks 'loop' (an object) or 'random_state'"),
    resume_case("resume-generator-state-damaged",
                _resave("latest", lambda a, m: m.update(random_state=[{"x": 1}])),
                "checkpoints/latest.json: checkpoint holds 1 dropout generator states; the "
                "model has 0"),
    resume_case("resume-data-changed", _edit_json("config.json", lambda c: c["data"].update(
        path=str(ROOT / "README.md"))), "README.md: character '#' (U+0023) at position 0 is "
                                        "not in the vocabulary"),
    resume_case("resume-metrics-garbage", _write("metrics.csv", "step,epoch\n1,2,3,4\n"),
                "runs/text/metrics.csv: existing header 'step,epoch' differs"),
    forecast_case("forecast-npz-truncated", _truncate("best.npz"),
                  "checkpoints/best.npz: unreadable"),
    forecast_case("forecast-npz-pickle", _pickle_npz("best"),
                  "checkpoints/best.npz: holds pickled data"),
    forecast_case("forecast-meta-damaged", _edit_json("meta.json", lambda m: m.update(data=7)),
                  "runs/series/meta.json: 'data' lacks columns/n_targets"),
    forecast_case("forecast-config-data-null", _edit_json("config.json", lambda c: c.update(
        data=None)), "runs/series/config.json: 'data' is null; expected the [data] section"),
    forecast_case("forecast-config-without-model-cell", _edit_json(
        "config.json", lambda c: c["model"].__delitem__("cell")), "runs/series/config.json: "
                  "'model.cell' is missing; expected the whole [model] section"),
    forecast_case("forecast-scaler-damaged", _edit_json("meta.json", lambda m: m["data"][
        "preprocessor"].update(center="x")), "runs/series/meta.json: 'data.preprocessor' is "
                  "damaged"),
    forecast_case("forecast-scaler-negative", _edit_json("meta.json", lambda m: m["data"][
        "preprocessor"].update(scale=[-1.0] * len(m["data"]["preprocessor"]["scale"]))),
                  "runs/series/meta.json: 'data.preprocessor' is damaged (its center and "
                  "scale must be finite, the scale > 0)"),
    Case("forecast-a-text-run", "forecast", ["{run}"], "forecast needs a series run"),
    Case("compare-missing-run", "compare", ["{run}", "{tmp}/nothing"],
         "nothing: no such run directory"),
    Case("compare-summary-not-an-object", "compare", ["{run}", "{run}"],
         "runs/text/summary.json: holds a JSON array; expected a JSON object",
         corrupt=_write("summary.json", "[]")),
    Case("compare-metrics-garbage", "compare", ["{run}", "{run}"], "metrics.csv: line 2",
         corrupt=_write("metrics.csv", "step,val_loss\n1,2,3\n")),
    Case("compare-out-exists", "compare", ["{run}", "{run}", "--out", "{runs}"],
         "exists; compare never overwrites"),
    Case("compare-grid-too-many-seeds", "compare",
         ["--config", str(TEXT_CFG), f"data.path={SHAKESPEARE}", "--seeds", "4294967296"],
         "--vary and --seeds 4294967296: the grid has 4294967296 runs; expected at most 10000"),
    Case("compare-out-name-too-long", "compare", ["{run}", "{run}", "--out", "{tmp}/" + "o" * 300],
         "o: not a usable path (File name too long)"),
]

COMMAND_LINE_CASES = [
    Case("cli-config-twice", "train", ["--config", str(TEXT_CFG), "--config", str(SERIES_CFG)],
         "python -m rnnlab.train: --config is given twice"),
    Case("cli-config-twice-abbreviated", "train",
         ["--config", str(TEXT_CFG), "--conf=" + str(SERIES_CFG)], "--config is given twice"),
    Case("cli-resume-twice", "train", ["--resume", "{run}", "--resume", "{run}"],
         "python -m rnnlab.train: --resume is given twice"),
    Case("cli-compare-config-twice", "compare", ["--config", str(TEXT_CFG), "--config",
                                                 str(SERIES_CFG)], "--config is given twice"),
    Case("cli-config-is-a-fifo", "train", ["--config", "{tmp}/fifo.toml"],
         "fifo.toml: not a regular file (a FIFO, device or socket); expected a config file",
         corrupt=lambda run, trained: os.mkfifo(run.parent.parent / "fifo.toml")),
    Case("cli-config-is-the-zero-device", "train", ["--config", "/dev/zero"],
         "/dev/zero: not a regular file (a FIFO, device or socket)"),
    Case("cli-unknown-option", "train", ["--resume-from", "{run}"],
         "python -m rnnlab.train: unrecognized arguments: --resume-from"),
    Case("cli-bad-device", "train", ["--config", str(TEXT_CFG), "--device", "tpu"],
         "argument --device: invalid choice: 'tpu'"),
    Case("cli-length-not-a-number", "sample", ["{run}", "--length", "many"],
         "argument --length: invalid int value: 'many'"),
    Case("cli-bad-checkpoint-name", "forecast", ["{run}", "--checkpoint", "first"],
         "argument --checkpoint: invalid choice: 'first'", run="series"),
    Case("cli-seeds-not-a-number", "compare", ["{run}", "--seeds", "x"],
         "argument --seeds: invalid int value: 'x'"),
    Case("cli-missing-run", "sample", [], "the following arguments are required: run"),
]

CASES = CONFIG_CASES + CSV_CASES + TEXT_CASES + CHECKPOINT_CASES + COMMAND_LINE_CASES


# ------------------------------------------------------------------------------ the checks

def _snapshot(folder):
    """Every file and folder under ``folder``: path -> (size, mtime, sha256) or None.

    A run's lock file counts by its presence only: a trainer writes its pid into it when it takes
    the lock, before it checks the run's files (RunDir.lock).
    """
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_dir():
            found[key] = None
        elif path.name == RunDir(path.parent).lock_file.name:
            found[key] = "lock"
        elif not path.is_file():  # a FIFO a case made: reading it would block
            found[key] = "special"
        else:
            stat = path.stat()
            found[key] = (stat.st_size, stat.st_mtime_ns,
                          hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def _prepare(case, trained, tmp):
    """Copy the case's run into ``tmp/runs``, write its files; return the argv."""
    runs = tmp / "runs"
    run = runs / case.run
    shutil.copytree(trained[case.run], run)
    if case.corrupt is not None:
        case.corrupt(run, trained)
    fill = {"tmp": tmp, "run": run, "runs": runs, "root": ROOT}
    for name, content in case.files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return [arg.format(**fill) for arg in case.argv], case.fragment.format(**fill)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gives_one_line_exit_2_and_changes_nothing(case, trained, tmp_path, capsys,
                                                              monkeypatch):
    argv, fragment = _prepare(case, trained, tmp_path)
    monkeypatch.chdir(tmp_path)  # a command that wrongly writes relative paths writes here
    before = _snapshot(tmp_path)
    with pytest.raises(SystemExit) as info:
        run_command(COMMANDS[case.command], argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2, err
    assert out == "" and "Traceback" not in err
    line, = err.splitlines()
    assert line.startswith("error: ") and fragment in line, line
    assert _snapshot(tmp_path) == before


def test_the_table_covers_every_kind_of_bad_input():
    assert len(CASES) >= 50 and len({case.id for case in CASES}) == len(CASES)
    kinds = {case.id.split("-")[0] for case in CASES}
    assert {"csv", "text", "npz", "checkpoint", "resume", "run", "compare", "forecast",
            "cli"} <= kinds


# -- a few through real processes -------------------------------------------------------------

SUBPROCESS_CASES = ["unknown-key", "csv-wrong-delimiter", "text-undecodable", "npz-pickle"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_a_real_process_exits_2_with_one_line_and_no_traceback(name, trained, tmp_path):
    case = next(case for case in CASES if case.id == name)
    argv, fragment = _prepare(case, trained, tmp_path)
    before = _snapshot(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), RNNLAB_MODE="FAST_COMPILE")
    result = subprocess.run([sys.executable, "-m", f"rnnlab.{case.command}", *argv],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    line, = result.stderr.splitlines()
    assert line.startswith("error: ") and fragment in line, line
    assert _snapshot(tmp_path) == before
