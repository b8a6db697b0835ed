"""Tests for rnnlab.config: TOML loading, overrides, path checks and their messages."""

import json
import re

import pytest

from rnnlab.config import (Config, check_paths, default_run_name, defaults, load, parse_override,
                           parse_value, save_resolved)
from rnnlab.errors import ConfigError


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("to be or not to be\n")
    return path


def write_toml(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ load

def test_load_applies_defaults_then_file_then_overrides_in_order(tmp_path, data_file):
    path = write_toml(tmp_path, f"""
[data]
path = "{data_file.as_posix()}"
[model]
cell = "elman"
hidden = 64
[train]
lr = 1                 # an int for a float key is fine
""")
    cfg = load(path, ["model.hidden=32", "model.hidden=16", "run.progress=off"])
    expected = defaults()
    expected["data"]["path"] = data_file.as_posix()
    expected["model"].update(cell="elman", hidden=16)
    expected["train"]["lr"] = 1.0
    expected["run"]["progress"] = False
    assert cfg.to_dict() == expected and isinstance(cfg.train.lr, float)


def test_series_keys_load_from_toml_and_overrides(tmp_path, data_file):
    path = write_toml(tmp_path, f'[data]\npath = "{data_file.as_posix()}"\nkind = "series"\n'
                                f'target = "y"\ndate = "d"\ncovariates = ["x", "y z"]\n'
                                f'freq = "W"\ndayfirst = true\n')
    cfg = load(path)
    assert cfg.data.covariates == ("x", "y z") and cfg.data.freq == "W" and cfg.data.dayfirst
    cfg = load(path, ['data.covariates=["x"]', "data.freq=", "data.date_format=%d.%m.%Y"])
    assert cfg.data.covariates == ("x",) and cfg.data.freq == ""
    assert cfg.data.date_format == "%d.%m.%Y"
    with pytest.raises(ConfigError, match=r"^command line \(data\.freq=1 week\): data\.freq = "
                                          r"'1 week': expected a pandas offset alias"):
        load(path, ["data.freq=1 week"])
    with pytest.raises(ConfigError, match=r"exp\.toml: data\.date_format = 'dd.mm.yyyy': "
                                          r"expected a strftime format"):
        load(write_toml(tmp_path, f'[data]\npath = "{data_file.as_posix()}"\n'
                                  f'date_format = "dd.mm.yyyy"\n'))


def test_resolved_config_round_trips_through_save_resolved(tmp_path, data_file):
    path = write_toml(tmp_path, f'[data]\npath = "{data_file.as_posix()}"\nkind = "series"\n'
                                f'target = "y"\ncovariates = ["a", "b"]\n')
    cfg = load(path, ["train.seed=3", "run.prime=To be"])
    saved = tmp_path / "run" / "config.json"
    save_resolved(cfg, saved)
    assert json.loads(saved.read_text()) == cfg.to_dict()
    assert load(saved) == cfg
    assert load(saved, ["train.seed=4"]).train.seed == 4


def test_missing_unreadable_and_malformed_files_name_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"nope\.json: file not found"):
        load(tmp_path / "nope.json")
    with pytest.raises(ConfigError, match=r"cannot read the config file"):
        load(tmp_path)
    path = write_toml(tmp_path, '[model]\ncell = "gru"\nhidden = \n')
    with pytest.raises(ConfigError, match=r"exp\.toml: line 3, column 10: invalid TOML: "
                                          r"Invalid value$"):
        load(path)
    path.write_bytes(b"[model]\ncell = '\xe9'\n")
    with pytest.raises(ConfigError, match=r"exp\.toml: byte 16 is not valid UTF-8"):
        load(path)
    bad_json = tmp_path / "config.json"
    bad_json.write_text('{"model": ')
    with pytest.raises(ConfigError, match=r"config\.json: invalid JSON at line 1"):
        load(bad_json)
    bad_json.write_text('["model"]')
    with pytest.raises(ConfigError, match=r"config\.json: holds a list; expected tables"):
        load(bad_json)


@pytest.mark.parametrize("text, message", [
    ("[model]\ncel = 'gru'\n", r"exp\.toml: unknown key 'model\.cel' \(did you mean "
                               r"'model\.cell'\?\)"),
    ("[train]\ncell = 'gru'\n", r"exp\.toml: unknown key 'train\.cell' \(did you mean "
                                r"'model\.cell'\?\)"),
    ("[trian]\nlr = 0.1\n", r"exp\.toml: unknown section 'trian' \(did you mean 'train'\?\); "
                            r"expected one of data, model, train, run, device"),
    ("cell = 'gru'\n", r"exp\.toml: unknown key 'cell' \(did you mean 'model\.cell'\?\); keys "
                       r"belong to a section"),
    ("[model]\nzzz = 1\n", r"exp\.toml: unknown key 'model\.zzz'; \[model\] has cell, hidden, "
                           r"layers, dropout, embedding, grad_clipping, gradient_steps$"),
    ("model = 3\n", r"exp\.toml: 'model' = 3: expected a table \[model\] of keys"),
    ("[model]\nhidden = '128'\n", r"exp\.toml: model\.hidden = '128': expected an integer$"),
    ("[model]\nhidden = 12.0\n", r"exp\.toml: model\.hidden = 12\.0: expected an integer$"),
    ("[model]\nhidden = true\n", r"exp\.toml: model\.hidden = True: expected an integer$"),
    ("[train]\nlr = 'fast'\n", r"exp\.toml: train\.lr = 'fast': expected a number$"),
    ("[train]\nlr = nan\n", r"exp\.toml: train\.lr = nan: expected a finite number$"),
    ("[run]\nprogress = 1\n", r"exp\.toml: run\.progress = 1: expected true or false$"),
    ("[data]\ncovariates = 3\n", r"data\.covariates = 3: expected a list of strings"),
    ("[data]\ncovariates = [1]\n", r"data\.covariates = \[1\]: expected a list of strings"),
    ("[model]\ncell = 'lstn'\n", r"exp\.toml: model\.cell = 'lstn': expected one of 'elman', "
                                 r"'lstm', 'gru' \(did you mean 'lstm'\?\)"),
    ("[device]\nmode = 'numba'\n", r"device\.mode = 'numba': .* \(did you mean 'NUMBA'\?\)"),
    ("[model]\nlayers = 4\n", r"exp\.toml: model\.layers = 4: expected an integer from 1 to 3"),
    ("[data]\nkind = 'series'\n", r"exp\.toml: data\.target = '': expected the name of the "
                                  r"column to forecast \(required when data\.kind = 'series'\)"),
])
def test_bad_files_give_one_line_naming_file_key_value_and_expectation(tmp_path, text, message):
    path = write_toml(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load(path, ["data.path=whatever.txt"])
    assert "\n" not in str(info.value)


def test_override_errors_name_the_command_line_override(tmp_path):
    with pytest.raises(ConfigError, match=r"^command line \(model\.hidden=big\): model\.hidden = "
                                          r"'big': expected an integer$"):
        load(None, ["model.hidden=big"], check_files=False)
    with pytest.raises(ConfigError, match=r"^command line \(model\.hidden=0\): model\.hidden = 0"
                                          r": expected an integer from 1 to 8192$"):
        load(None, ["model.hidden=0"], check_files=False)
    with pytest.raises(TypeError, match=r"overrides='model\.cell=gru': expected a sequence"):
        load(None, "model.cell=gru", check_files=False)


def test_the_data_file_must_exist_but_only_check_paths_looks(tmp_path, data_file, monkeypatch):
    write_toml(tmp_path, '[data]\npath = "tiny.tx"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=rf"^exp\.toml: data\.path = 'tiny\.tx': file not found; "
                                          rf"expected an existing file \(relative to "
                                          rf"{re.escape(str(tmp_path))}\) \(did you mean "
                                          rf"'tiny\.txt'\?\)$"):
        load("exp.toml")
    assert load("exp.toml", check_files=False).data.path == "tiny.tx"
    assert load("exp.toml", ["data.path=tiny.txt"]).data.path == "tiny.txt"
    assert load("exp.toml", ["data.path=."]).data.path == "."      # text: a folder's files
    assert load("exp.toml", ["data.path=*.txt"]).data.path == "*.txt"  # or a pattern's
    series = ["data.kind=series", "data.target=y"]
    with pytest.raises(ConfigError, match=r"^command line \(data\.path=\.\): data\.path = '\.': "
                                          r"expected a file, not a directory or a pattern \(series "
                                          r"data is one CSV file\)$"):
        load("exp.toml", series + ["data.path=."])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden").write_text("x")
    with pytest.raises(ConfigError, match=r"^command line \(data\.path=empty\): data\.path = "
                                          r"'empty': the folder holds no file \(hidden ones are "
                                          r"skipped\); expected text files"):
        load("exp.toml", ["data.path=empty"])
    with pytest.raises(ConfigError, match=r"data\.path = '\*\.csv': no file matches the pattern"):
        load("exp.toml", ["data.path=*.csv"])
    with pytest.raises(ConfigError, match=r"^data\.path = '': expected the data file"):
        load()
    assert check_paths(Config().replace(data={"path": "tiny.txt"})) is None


# ------------------------------------------------------------------------------ overrides

@pytest.mark.parametrize("text, parsed", [
    ("model.cell=gru", ("model", "cell", "gru")),
    ("model.hidden=256", ("model", "hidden", 256)),
    ("model.gradient_steps=-1", ("model", "gradient_steps", -1)),
    ("train.lr=1e-3", ("train", "lr", 0.001)),
    ("train.lr=2", ("train", "lr", 2.0)),
    ("run.progress=Yes", ("run", "progress", True)),
    ("run.progress=0", ("run", "progress", False)),
    ("run.prime= To be", ("run", "prime", " To be")),
    ("run.name=", ("run", "name", "")),
    ("data.covariates=temp, humidity", ("data", "covariates", ["temp", "humidity"])),
    ("data.covariates=", ("data", "covariates", [])),
    ('data.covariates=["x"]', ("data", "covariates", ["x"])),
    ("data.covariates=['x', 'y']", ("data", "covariates", ["x", "y"])),
    ("data.covariates=[x, y]", ("data", "covariates", ["x", "y"])),  # the shell ate the quotes
    ("data.covariates=[]", ("data", "covariates", [])),
    ("data.freq=W-SUN", ("data", "freq", "W-SUN")),
    ("data.dayfirst=true", ("data", "dayfirst", True)),
    ("data.date_format=%d.%m.%Y", ("data", "date_format", "%d.%m.%Y")),
    (" device.mode =JAX", ("device", "mode", "JAX")),
])
def test_parse_override_parses_by_the_defaults_type(text, parsed):
    assert parse_override(text) == parsed
    assert type(parse_override(text)[2]) is type(parsed[2])


@pytest.mark.parametrize("text, message", [
    ("model.cell", r"^command line: override 'model\.cell': expected section\.key=value"),
    ("model.hidden=12.5", r"^command line: model\.hidden = '12\.5': expected an integer$"),
    ("run.progress=maybe", r"^command line: run\.progress = 'maybe': expected true or false$"),
    ("train.lr=inf", r"^command line: train\.lr = inf: expected a finite number$"),
    ("train.cell=gru", r"^command line: unknown key 'train\.cell' \(did you mean 'model\.cell'"),
    ("trian.lr=0.1", r"^command line: unknown key 'trian\.lr' \(did you mean 'train\.lr'\?\)$"),
    ("modle.hiden=3", r"^command line: unknown key 'modle\.hiden' \(did you mean "
                      r"'model\.hidden'\?\)$"),
    ("lr=0.1", r"^command line: unknown key 'lr' \(did you mean 'train\.lr'\?\); keys belong"),
    ("data.covariates=[1]", r"^command line: data\.covariates = '\[1\]': expected a list of "
                            r"strings, as x,y or \[\"x\", \"y\"\]$"),
    ('data.covariates=[x"]', r"^command line: data\.covariates = .*: expected a list of strings"),
])
def test_parse_override_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_override(text)


def test_parse_value_and_default_run_name():
    assert parse_value("model.cell", "elman") == "elman"
    with pytest.raises(ConfigError, match=r"^grid: model\.layers = 'two': expected an integer"):
        parse_value("model.layers", "two", source="grid")
    cfg = load(None, ["model.cell=gru", "train.seed=2"], check_files=False)
    assert default_run_name(cfg, "experiments/sunspots.toml") == "sunspots-gru-s2"
    assert default_run_name(cfg) == "run-gru-s2"
    assert default_run_name(cfg.replace(run={"name": "mine"}), "experiments/sunspots.toml") == "mine"
