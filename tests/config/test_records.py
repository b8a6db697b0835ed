"""Tests for rnnlab.config.records: the typed, frozen records, validation and cross-field rules."""

import dataclasses
import json
import re

import pytest

from rnnlab.config.records import (SECTIONS, Config, DataConfig, ModelConfig, TrainConfig,
                                   validate)
from rnnlab.config.schema import CHOICES, DEFAULTS, RULES, defaults
from rnnlab.errors import ConfigError


# ------------------------------------------------------------------------------ validate

@pytest.mark.parametrize("dotted, value, expected", [
    ("model.hidden", 0, "an integer from 1 to 8192"),
    ("model.hidden", 8193, "an integer from 1 to 8192"),
    ("model.embedding", 10**8, "an integer from 0 to 8192"),
    ("train.max_retries", -1, "an integer >= 0"),
    ("train.on_divergence", "retry", "one of 'stop', 'halve'"),
    ("model.layers", 0, "an integer from 1 to 3"),
    ("train.batch_size", -1, "a positive integer"),
    ("data.seq_len", 0, "a positive integer"),
    ("data.lookback", 0, "a positive integer"),
    ("data.horizon", 0, "a positive integer"),
    ("data.stride", 0, "a positive integer"),
    ("data.season", 0.5, "0 .the calendar's season. or a number >= 1, e.g. 12 or 52.18"),
    ("train.eval_every", 0, "a positive integer"),
    ("train.max_steps", -1, "an integer >= 0"),
    ("model.dropout", 1.0, r"a number in \[0, 1\)"),
    ("data.val_fraction", -0.1, r"a number in \[0, 1\)"),
    ("train.lr", 0.0, "a number > 0"),
    ("train.lr_decay", 1.5, r"a number in \(0, 1\]"),
    ("model.gradient_steps", 0, "-1 .* or an integer >= 1"),
    ("model.gradient_steps", -2, "-1 .* or an integer >= 1"),
    ("train.max_grad_norm", -1.0, "a number >= 0"),
    ("run.temperature", 0.0, "a number > 0"),
    ("run.name", "a/b", "a directory name without path separators"),
    ("run.dir", "", "a non-empty folder path without NUL characters"),
])
def test_validate_rejects_impossible_sizes(dotted, value, expected):
    section, key = dotted.split(".")
    cfg = defaults()
    cfg[section][key] = value
    with pytest.raises(ConfigError, match=rf"^exp\.toml: {re.escape(dotted)} = "
                                          rf"{re.escape(repr(value))}: expected {expected}"):
        validate(cfg, "exp.toml")


def test_validate_accepts_edge_values_and_returns_a_normalised_record():
    cfg = defaults()
    cfg["model"].update(gradient_steps=5, layers=3, dropout=0.0)
    cfg["data"].update(val_fraction=0.5, test_fraction=0.4999, covariates=["a"])
    cfg["train"]["time_budget"] = 60
    out = validate(cfg)
    assert out.data.covariates == ("a",) and out.train.time_budget == 60.0
    assert type(out.train.time_budget) is float and isinstance(out.model, ModelConfig)
    assert out.to_dict() == {**cfg, "train": {**cfg["train"], "time_budget": 60.0}}
    cfg["model"]["gradient_steps"] = -1
    assert validate(cfg).model.gradient_steps == -1


def test_validate_checks_fraction_sum_structure_and_cross_field_rules():
    cfg = defaults()
    cfg["data"].update(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ConfigError, match=r"data\.val_fraction \+ data\.test_fraction = 0\.5 \+ "
                                          r"0\.5: expected a sum < 1"):
        validate(cfg)
    cfg = defaults()
    cfg["data"].update(kind="series", target="passengers")
    assert validate(cfg).data.target == ("passengers",)
    cfg["data"]["target"] = ""
    with pytest.raises(ConfigError, match=r"^s\.toml: data\.target = '': expected the name of "
                                          r"the column to forecast"):
        validate(cfg, {"data.target": "s.toml", None: "other.toml"})
    cfg = defaults()
    del cfg["model"]["cell"]
    with pytest.raises(ConfigError, match=r"missing key 'model\.cell'"):
        validate(cfg)
    cfg = defaults()
    cfg["model"]["cel"] = "gru"
    with pytest.raises(ConfigError, match=r"unknown key 'model\.cel' \(did you mean"):
        validate(cfg)
    with pytest.raises(ConfigError, match=r"unknown section 'modle' \(did you mean 'model'\?\)"):
        validate({**defaults(), "modle": {}})
    with pytest.raises(ConfigError, match=r"section 'run' is missing; expected a table"):
        validate({k: v for k, v in defaults().items() if k != "run"})
    with pytest.raises(ConfigError, match=r"config is a list; expected a dict"):
        validate([])


# ------------------------------------------------------------------------------ records

def test_records_hold_every_key_with_its_default_and_type():
    assert list(SECTIONS) == list(DEFAULTS)
    for section, record in SECTIONS.items():
        fields = {f.name: f for f in dataclasses.fields(record)}
        assert list(fields) == list(DEFAULTS[section]), section
        for key, (default, comment) in DEFAULTS[section].items():
            value = getattr(record(), key)
            assert value == (tuple(default) if isinstance(default, list) else default)
            # '*' escaped for reST (glob patterns)
            assert comment.replace("*", "\\*") in record.__doc__, f"{section}.{key}"
    assert Config().to_dict() == defaults()


def test_records_are_frozen_and_their_sequences_immutable():
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.model.hidden = 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.model = ModelConfig()
    assert isinstance(DataConfig(covariates=["a", "b"]).covariates, tuple)
    assert hash(cfg) == hash(Config())  # frozen and made of hashable values


@pytest.mark.parametrize("dotted", sorted(set(RULES) | set(CHOICES)))
def test_every_record_checks_every_rule_and_choice_when_made(dotted):
    section, key = dotted.split(".")
    bad = {"run.name": "a/b", "run.dir": "", "device.mode": "FAST",
           "data.freq": "every month", "data.separator": ""}.get(dotted)
    if bad is None:
        default = DEFAULTS[section][key][0]
        bad = "nope" if isinstance(default, str) else type(default)(-10**6)
    with pytest.raises(ConfigError, match=rf"^{re.escape(dotted)} = {re.escape(repr(bad))}: "
                                          r"expected "):
        SECTIONS[section](**{key: bad})
    with pytest.raises(ConfigError, match=rf"^{re.escape(dotted)} = "):
        Config().replace(**{section: {key: bad}})


def test_records_check_types_and_convert_ints_of_float_keys():
    assert TrainConfig(lr=1).lr == 1.0 and type(TrainConfig(lr=1).lr) is float
    with pytest.raises(ConfigError, match=r"^model\.hidden = '8': expected an integer$"):
        ModelConfig(hidden="8")
    with pytest.raises(ConfigError, match=r"^model\.hidden = True: expected an integer$"):
        ModelConfig(hidden=True)
    with pytest.raises(ConfigError, match=r"^train\.lr = nan: expected a finite number$"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ConfigError, match=r"^section 'model' is a dict; expected a ModelConfig$"):
        Config(model={"cell": "gru"})


def test_replace_makes_a_checked_copy_and_names_unknown_keys():
    cfg = Config()
    changed = cfg.replace(model={"cell": "gru"}, train={"seed": 3})
    assert (changed.model.cell, changed.train.seed, cfg.model.cell) == ("gru", 3, "lstm")
    assert changed.data is cfg.data
    with pytest.raises(ConfigError, match=r"^unknown key 'model\.cel' \(did you mean "
                                          r"'model\.cell'\?\)"):
        cfg.replace(model={"cel": "gru"})
    with pytest.raises(ConfigError, match=r"^unknown section 'modle' \(did you mean 'model'"):
        cfg.replace(modle={"cell": "gru"})
    with pytest.raises(ConfigError, match=r"^data\.val_fraction \+ data\.test_fraction = 0\.5 "
                                          r"\+ 0\.5: expected a sum < 1"):
        cfg.replace(data={"val_fraction": 0.5, "test_fraction": 0.5})
    with pytest.raises(ConfigError, match=r"^data\.target = '': expected the name of the column"):
        cfg.replace(data={"kind": "series"})


def test_to_dict_is_json_and_round_trips_through_validate():
    cfg = Config().replace(data={"kind": "series", "target": "y", "covariates": ["a", "b"]},
                           train={"lr": 0.5})
    text = json.dumps(cfg.to_dict())
    assert validate(json.loads(text)) == cfg
    assert json.loads(text)["data"]["covariates"] == ["a", "b"]


def test_freq_needs_a_date_column_for_series_data():
    series = {"kind": "series", "target": "y"}
    assert Config().replace(data={**series, "date": "Week", "freq": "W"}).data.freq == "W"
    assert Config().replace(data={"freq": "W"}).data.freq == "W"  # text data ignores it
    with pytest.raises(ConfigError, match=r"^data\.freq = 'W': expected '' without a date column"):
        Config().replace(data={**series, "freq": "W"})
