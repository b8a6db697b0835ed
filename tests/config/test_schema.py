"""Tests for rnnlab.config.schema: the defaults block and its TOML description."""

import re
import tomllib

from rnnlab.config.records import validate
from rnnlab.config.schema import CHOICES, DEFAULTS, defaults, describe


# ------------------------------------------------------------------------------ defaults

def test_defaults_block_documents_every_key_and_its_defaults_are_valid():
    for section, keys in DEFAULTS.items():
        for key, entry in keys.items():
            default, comment = entry
            assert isinstance(comment, str) and len(comment) > 5, f"{section}.{key}"
            assert type(default) in (bool, int, float, str, list), f"{section}.{key}"
    for dotted, choices in CHOICES.items():
        section, key = dotted.split(".")
        assert DEFAULTS[section][key][0] in choices, dotted
    assert validate(defaults()).to_dict() == defaults()
    cfg = defaults()
    cfg["data"]["covariates"].append("x")
    assert DEFAULTS["data"]["covariates"][0] == []


def test_describe_is_a_valid_toml_config_listing_every_key_comment_and_choice():
    text = describe()
    assert tomllib.loads(text) == defaults()
    for section, keys in DEFAULTS.items():
        assert f"[{section}]" in text
        for key, (_, comment) in keys.items():
            assert re.search(rf"^{key} = .*# {re.escape(comment)}", text, re.M), key
    assert "(elman | lstm | gru)" in text and "('' | FAST_COMPILE" in text
