"""Tests for rnnlab.config.checks: validation of values, structure and cross-field rules."""

import re

import pytest

from rnnlab.config.checks import validate
from rnnlab.config.schema import defaults
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
    ("data.season", 0, "a positive integer"),
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
    ("run.dir", "", "a non-empty folder name"),
])
def test_validate_rejects_impossible_sizes(dotted, value, expected):
    section, key = dotted.split(".")
    cfg = defaults()
    cfg[section][key] = value
    with pytest.raises(ConfigError, match=rf"^exp\.toml: {re.escape(dotted)} = "
                                          rf"{re.escape(repr(value))}: expected {expected}"):
        validate(cfg, "exp.toml")


def test_validate_accepts_edge_values_and_returns_a_normalised_copy():
    cfg = defaults()
    cfg["model"].update(gradient_steps=5, layers=3, dropout=0.0)
    cfg["data"].update(val_fraction=0.5, test_fraction=0.4999, covariates=("a",))
    cfg["train"]["time_budget"] = 60
    out = validate(cfg)
    assert out["data"]["covariates"] == ["a"] and out["train"]["time_budget"] == 60.0
    assert out is not cfg and out["data"] is not cfg["data"]
    cfg["model"]["gradient_steps"] = -1
    assert validate(cfg)["model"]["gradient_steps"] == -1


def test_validate_checks_fraction_sum_structure_and_cross_field_rules():
    cfg = defaults()
    cfg["data"].update(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ConfigError, match=r"data\.val_fraction \+ data\.test_fraction = 0\.5 \+ "
                                          r"0\.5: expected a sum < 1"):
        validate(cfg)
    cfg = defaults()
    cfg["data"].update(kind="series", target="passengers")
    assert validate(cfg)["data"]["target"] == "passengers"
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
