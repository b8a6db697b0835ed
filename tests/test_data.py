"""Checks of the shipped data sets: sha256 against data/README.md, and what each file holds.

The README's table is parsed by the same function the rebuild script uses
(``scripts/build_data.py``), so the README, the files and the script cannot drift apart. Nothing
here touches the network; ``scripts/build_data.py --check`` is the rebuild test.
"""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_data", ROOT / "scripts" / "build_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_data = _load_build_script()
EXPECTED = build_data.readme_hashes(DATA / "README.md")


def test_readme_lists_exactly_the_shipped_files_and_the_script_builds_them():
    shipped = {p.name for p in DATA.iterdir() if p.is_file() and p.name != "README.md"}
    assert set(EXPECTED) == shipped
    assert set(build_data.OUTPUTS) == shipped


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sha256_matches_readme(name):
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == EXPECTED[name]


def test_readme_lists_the_pinned_archive_hashes():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for archive in build_data.ARCHIVES.values():
        assert f"`{archive['requirement']}`" in readme
        assert f"| `{archive['filename']}`" in readme
        assert f"`{archive['sha256']}`" in readme


def test_airline_passengers():
    df = pd.read_csv(DATA / "airline_passengers.csv", parse_dates=["Month"])
    assert list(df.columns) == ["Month", "Passengers"]
    assert len(df) == 144
    months = pd.date_range("1949-01-01", "1960-12-01", freq="MS")
    assert (df["Month"].to_numpy() == months.to_numpy()).all()
    assert df["Passengers"].dtype.kind == "i" and df["Passengers"].min() > 0
    # Box & Jenkins Series G: first and last months, and the yearly total for 1949.
    assert df["Passengers"].iloc[0] == 112 and df["Passengers"].iloc[-1] == 432
    assert df["Passengers"].iloc[:12].sum() == 1520


def test_sunspots():
    df = pd.read_csv(DATA / "sunspots.csv")
    assert list(df.columns) == ["Year", "Sunspots"]
    assert df["Year"].tolist() == list(range(1700, 2009))
    assert df["Sunspots"].dtype.kind == "f" and df["Sunspots"].min() >= 0
    assert df["Sunspots"].iloc[0] == 5 and df["Sunspots"].iloc[-1] == 2.9


def test_us_macro():
    df = pd.read_csv(DATA / "us_macro.csv", parse_dates=["Quarter"])
    numeric = ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
               "tbilrate", "unemp", "pop", "infl", "realint"]
    assert list(df.columns) == ["Quarter"] + numeric
    assert len(df) == 203
    quarters = pd.period_range("1959Q1", "2009Q3", freq="Q")
    assert df["Quarter"].dt.to_period("Q").tolist() == list(quarters)
    assert all(df[c].dtype.kind == "f" for c in numeric)
    assert not df[numeric].isna().any().any()
    # realint is defined as tbilrate - infl (rounded to 2 decimals in the source); both are 0 in
    # 1959Q1, which has no previous quarter (documented in data/README.md).
    assert df.loc[0, "infl"] == df.loc[0, "realint"] == 0
    later = df.iloc[1:]
    np.testing.assert_allclose(later["realint"], later["tbilrate"] - later["infl"], atol=0.011)


def test_shakespeare_corpus():
    raw = (DATA / "shakespeare.txt").read_bytes()
    assert 900_000 < len(raw) < 1_200_000
    text = raw.decode("ascii")
    assert "\r" not in text and "\t" not in text and text.endswith("\n")
    assert "gutenberg" not in text.lower()
    titles = ["HAMLET, PRINCE OF DENMARK", "MACBETH", "THE TRAGEDY OF KING LEAR",
              "OTHELLO, THE MOOR OF VENICE", "ROMEO AND JULIET", "JULIUS CAESAR",
              "THE TEMPEST", "A MIDSUMMER NIGHT'S DREAM"]
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line == "by William Shakespeare"]
    assert [lines[i - 2] for i in starts] == titles
    assert all(line == line.rstrip() for line in lines)


def test_build_script_conversions_offline():
    # The converters run on small inputs, without downloading anything.
    macro = build_data.convert_macro(
        b'"year","quarter","a","b","c","d","e","f","g","h","i","j","k","l"\n'
        + b"".join(b"%d,%d" % (1959 + i // 4, i % 4 + 1) + b",1.50" * 12 + b"\n"
                   for i in range(203)), "macrodata.csv")
    lines = macro.decode().split("\n")
    assert lines[1] == "1959-01-01" + ",1.50" * 12 and lines[-2].startswith("2009-07-01,")
    play = build_data.clean_play(b"header\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n"
                                 b"\r\nACT I.  \r\nSpeak.\r\n*** END OF THE PROJECT GUTENBERG "
                                 b"EBOOK X ***\r\nlicence\r\n", "x.txt")
    assert play == "ACT I.\nSpeak.\n"
    with pytest.raises(SystemExit, match="expected month 1949-02"):
        build_data.convert_airline(b"Date,Passengers\n1949-01,112\n1949-03,118\n", "a.csv")
