"""Loading and validating CSV time series (rnnlab.datasets.series)."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab import config
from rnnlab.datasets.series import canonical_freq, load_csv, season_for
from rnnlab.datasets.timeseries import prepare
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.series import SeriesTask

DATA = Path(__file__).resolve().parents[2] / "data"
AIRLINE = DATA / "airline_passengers.csv"
FIRST_YEAR = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]


def write(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_airline_loads_as_144_monthly_values():
    series = load_csv(AIRLINE, "Passengers", date="Month")
    assert series.values.shape == (144, 1) and series.values.dtype == np.float64
    np.testing.assert_array_equal(series.targets[:12, 0], FIRST_YEAR)
    assert series.values.sum() == 40363  # the well-known total of the 1949-1960 series
    assert str(series.dates[0])[:7] == "1949-01" and str(series.dates[-1])[:7] == "1960-12"
    assert series.source == str(AIRLINE) and series.columns == ("Passengers",)


def test_targets_then_covariates_in_the_order_asked(tmp_path):
    path = write(tmp_path, "d,a,b,c\n2000-01-01,1,10,100\n2000-01-02,2,20,200\n", "ok.csv")
    series = load_csv(path, ["c", "a"], date="d", covariates=["b"])
    assert series.columns == ("c", "a", "b") and series.n_targets == 2
    np.testing.assert_array_equal(series.targets, [[100, 1], [200, 2]])
    np.testing.assert_array_equal(series.covariates, [[10], [20]])


GAPPY = "t,y,x\n1,1.0,5\n2,,6\n3,,7\n4,7.0,8\n5,8.0,\n"


@pytest.mark.parametrize("policy, expected_y, expected_x", [
    ("interpolate", [1, 3, 5, 7, 8], None),
    ("ffill", [1, 1, 1, 7, 8], [5, 6, 7, 8, 8]),
])
def test_missing_value_policies(tmp_path, policy, expected_y, expected_x):
    path = write(tmp_path, GAPPY if policy == "ffill" else GAPPY.replace("8.0,\n", "8.0,9\n"))
    series = load_csv(path, "y", covariates=["x"], missing=policy)
    np.testing.assert_allclose(series.targets[:, 0], expected_y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(series.covariates[:, 0], expected_x or [5, 6, 7, 8, 9])


@pytest.mark.parametrize("text, policy, fragments", [
    ("t,y\n\n1,1\n2,2\n", "ffill", None),  # blank lines are skipped, not missing values
    ("t,y\n1,\n2,1\n3,2\n", "ffill", ["row 1", "'y'", "no earlier value"]),
    ("t,y\n1,1\n2,2\n3,\n4,NA\n", "interpolate", ["row 3", "'y'", "no later value"]),
    ("t,y\n1,\n2,\n", "interpolate", ["row 1", "every value is missing"]),
])
def test_gaps_a_policy_cannot_fill(tmp_path, text, policy, fragments):
    path = write(tmp_path, text)
    if fragments is None:
        np.testing.assert_array_equal(load_csv(path, "y", missing=policy).values[:, 0], [1, 2])
        return
    with pytest.raises(DataError) as info:
        load_csv(path, "y", missing=policy)
    for fragment in [str(path)] + fragments:
        assert fragment in str(info.value)


# One case per kind of bad input: (file text or None for a missing file, load_csv keywords,
# fragments the one-line message must contain besides the file name).
BAD_INPUTS = {
    "empty file": ("", {}, ["empty"]),
    "header only": ("Month,Passengers\n", {}, ["no data rows"]),
    "no such file": (None, {}, ["no such file"]),
    "misspelled column": ("Month,Passengers\n1949-01,112\n", {"target": "Pasengers"},
                          ["'Pasengers' not found", "'Month', 'Passengers'",
                           "did you mean 'Passengers'?"]),
    "missing column": ("Month,Passengers\n1949-01,112\n", {"covariates": ["Temperature"]},
                       ["'Temperature' not found", "'Month', 'Passengers'"]),
    "non-numeric cell": ("Month,Passengers\n1949-01,112\n1949-02,1l8\n", {},
                         ["row 2 (Month=1949-02)", "column 'Passengers'", "'1l8' is not a"]),
    "infinite cell": ("Month,Passengers\n1949-01,inf\n", {}, ["row 1", "'inf' is not a finite"]),
    "unparseable date": ("Month,Passengers\n1949-01,112\n1949-2x,118\n", {},
                         ["row 2", "column 'Month'", "'1949-2x' is not a date"]),
    "empty date": ("Month,Passengers\n1949-01,112\n,118\n", {},
                   ["row 2", "column 'Month'", "date is missing"]),
    "unsorted dates": ("Month,Passengers\n1949-01,1\n1949-03,2\n1949-02,3\n", {},
                       ["row 3 (Month=1949-02)", "comes after '1949-03' on row 2", "increasing"]),
    "duplicate dates": ("Month,Passengers\n1949-01,1\n1949-02,2\n1949-02,3\n", {},
                        ["row 3", "duplicate date '1949-02' (also on row 2)"]),
    "NaN without a policy": ("Month,Passengers\n1949-01,112\n1949-02,\n1949-03,NaN\n", {},
                             ["row 2 (Month=1949-02)", "column 'Passengers'", "missing",
                              "2 missing", "set data.missing=interpolate or data.missing=ffill"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_data_error_naming_the_file(tmp_path, case):
    text, keywords, fragments = BAD_INPUTS[case]
    path = tmp_path / "bad.csv" if text is None else write(tmp_path, text)
    arguments = {"target": "Passengers", "date": "Month", **keywords}
    with pytest.raises(DataError) as info:
        load_csv(path, **arguments)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_series_shorter_than_lookback_plus_horizon(tmp_path):
    path = write(tmp_path, "y\n" + "".join(f"{v}\n" for v in range(1, 11)))
    series = load_csv(path, "y")
    start = re.escape(str(path))
    with pytest.raises(DataError, match=rf"^{start}: the series has 10 rows; .* = 12"):
        prepare(series, lookback=8, horizon=4)
    with pytest.raises(DataError, match=r"10 rows; .* = 10 plus 1 rows consumed by differencing"):
        prepare(series, lookback=8, horizon=2, transforms=["diff"])


# ------------------------------------------------------------------------------ the calendar

def dated(tmp_path, dates, values=None, header="Date,y", name="cal.csv"):
    values = values if values is not None else range(1, len(dates) + 1)
    rows = "".join(f"{d},{v}\n" for d, v in zip(dates, values))
    return write(tmp_path, f"{header}\n{rows}", name)


def iso(dates):
    return [str(d)[:10] for d in dates]


def one_line_error(path, fragments, **keywords):
    with pytest.raises(DataError) as info:
        load_csv(path, "y", date="Date", **keywords)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.mark.parametrize("name, column, freq, rows", [
    ("airline_passengers.csv", ("Passengers", "Month"), "MS", 144),
    ("sunspots.csv", ("Sunspots", "Year"), "YS", 309),
    ("us_macro.csv", ("realgdp", "Quarter"), "QS", 203),
])
def test_the_shipped_series_are_regular_and_their_freq_is_inferred(name, column, freq, rows):
    series = load_csv(DATA / name, column[0], date=column[1])
    assert series.freq == freq and len(series) == rows
    assert load_csv(DATA / name, column[0], date=column[1], freq=freq).freq == freq


WEEKS = iso(pd.date_range("2020-01-05", periods=12, freq="W-SUN"))  # Sundays
GAPPY_WEEKS = WEEKS[:6] + WEEKS[7:9] + WEEKS[11:]  # rows for 02-16, 03-08 and 03-15 dropped


def test_rows_missing_from_the_calendar_are_one_line_naming_the_first_gap(tmp_path):
    path = dated(tmp_path, GAPPY_WEEKS)
    assert load_csv(dated(tmp_path, WEEKS, name="full.csv"), "y", date="Date").freq == "W-SUN"
    message = one_line_error(path, [
        "row 7 (Date=2020-02-23): 2 weeks after the previous date",
        "expected one step of W-SUN (inferred from the dates)", "1 row missing here, 3 in all",
        "set data.missing=interpolate or data.missing=ffill to reindex and fill them"])
    assert one_line_error(path, [], freq="W") == message.replace("inferred from the dates",
                                                                  "data.freq")


@pytest.mark.parametrize("policy, filled", [("interpolate", [6.5, 8 + 1 / 3, 8 + 2 / 3]),
                                            ("ffill", [6, 8, 8])])
def test_interpolate_and_ffill_reindex_to_the_full_calendar(tmp_path, policy, filled):
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    series = load_csv(dated(tmp_path, GAPPY_WEEKS, values), "y", date="Date", missing=policy)
    assert len(series) == 12 and series.freq == "W-SUN"
    assert iso(series.dates) == WEEKS
    assert (np.diff(series.dates) == np.timedelta64(7, "D")).all()
    np.testing.assert_allclose(series.values[[6, 9, 10], 0], filled)
    np.testing.assert_array_equal(series.values[[0, 5, 7, 8, 11], 0], [1, 6, 7, 8, 9])


def test_a_cell_missing_around_inserted_rows_names_the_file_row(tmp_path):
    path = dated(tmp_path, ["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-05"],
                 [1, 2, 3, ""])
    with pytest.raises(DataError, match=r"row 4 \(Date=2020-01-05\), column 'y': .*no later"):
        load_csv(path, "y", date="Date", missing="interpolate", freq="D")


def test_a_change_of_spacing_is_an_error_whichever_spacing_is_longer(tmp_path):
    quarters = iso(pd.date_range("1950-01-01", periods=8, freq="QS"))
    months = iso(pd.date_range("1952-02-01", periods=12, freq="MS"))
    one_line_error(dated(tmp_path, quarters + months), [
        "row 2 (Date=1950-04-01): 3 months after the previous date, like the 6 rows after it",
        "expected one step of MS (inferred from the dates)", "the spacing changes"],
        missing="interpolate")
    quarters = iso(pd.date_range("1950-01-01", periods=20, freq="QS"))
    months = iso(pd.date_range("1955-02-01", periods=6, freq="MS"))
    one_line_error(dated(tmp_path, quarters + months), [
        "row 21 (Date=1955-02-01): 4 months after the previous date",
        "expected one step of QS (inferred from the dates)", "the spacing changes"],
        missing="ffill")


@pytest.mark.parametrize("freq, fragments", [
    ("W-MON", ["row 1 (Date=2020-01-05): this date is not on the W-MON calendar (data.freq)",
               "(the dates look W-SUN)"]),
    ("MS", ["row 1 (Date=2020-01-05): this date is not on the MS calendar (data.freq)"]),
    ("D", ["row 2 (Date=2020-01-12): 1 week after the previous date", "step of D (data.freq) "
           "(the dates look W-SUN)", "6 rows missing here, 66 in all"]),
    ("h", ["column 'Date': the dates span about 1849 steps of h (data.freq) but the file has "
           "12 rows"]),
])
def test_a_freq_that_disagrees_with_the_dates_is_an_error(tmp_path, freq, fragments):
    one_line_error(dated(tmp_path, WEEKS), fragments, freq=freq)


def test_a_column_named_twice_names_the_config_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"^data\.target/data\.covariates/data\.date: "
                                          r"column\(s\) 'y' named twice"):
        load_csv(dated(tmp_path, WEEKS), "y", date="Date", covariates=["y"])


def test_an_unknown_freq_names_the_config_key(tmp_path):
    with pytest.raises(ConfigError, match=r"^data\.freq = 'monthly': not a pandas offset alias"):
        load_csv(dated(tmp_path, WEEKS), "y", date="Date", freq="monthly")
    with pytest.raises(ConfigError, match=r"^data\.freq = 'W': expected a date column too"):
        load_csv(dated(tmp_path, WEEKS), "y", freq="W")


def test_dates_without_a_regular_step_ask_for_data_freq(tmp_path):
    path = dated(tmp_path, ["2020-01-01", "2020-01-03", "2020-01-04", "2020-01-09"])
    one_line_error(path, ["column 'Date': no regular step found", "set data.freq"])
    assert load_csv(path, "y", date="Date", freq="D", missing="ffill").values[:, 0].tolist() == [
        1, 1, 2, 3, 3, 3, 3, 3, 4]


@pytest.mark.parametrize("alias, first, spelt", [
    ("MS", None, "MS"), ("ME", None, "ME"), ("M", "2020-01-01", "MS"), ("M", "2020-01-31", "ME"),
    ("W", None, "W-SUN"), ("W-SUN", None, "W-SUN"), ("W-MON", None, "W-MON"),
    ("2W", None, "2W-SUN"),
    ("QS", None, "QS"), ("QS-OCT", None, "QS"), ("QS-NOV", None, "QS-FEB"), ("Q", None, "QS"),
    ("QE-DEC", None, "QE"), ("QE-SEP", None, "QE"), ("Q", "2020-03-31", "QE"),
    ("Y", None, "YS"), ("A", "1871-01-01", "YS"), ("YS-JAN", None, "YS"), ("YE-DEC", None, "YE"),
    ("Y", "1871-12-31", "YE"), ("YS-JUL", None, "YS-JUL"), ("A-DEC", "1871-01-01", "YS"),
    ("A-JUN", "1871-07-01", "YS-JUL"), ("Q-DEC", "1959-01-01", "QS"),
    ("Q-DEC", "1959-03-31", "QE"),
    ("D", None, "D"), ("B", None, "B"), ("H", None, "h"), ("h", None, "h"), ("T", None, "min"),
])
def test_canonical_freq_spells_each_calendar_one_way(alias, first, spelt):
    assert canonical_freq(alias, first) == spelt


def test_day_first_dates(tmp_path):
    days = [f"{d:02d}.02.1949" for d in range(1, 15)]  # 1 to 14 February
    path = dated(tmp_path, days)
    series = load_csv(path, "y", date="Date", dayfirst=True)
    assert iso(series.dates[:2]) == ["1949-02-01", "1949-02-02"] and series.freq == "D"
    one_line_error(path, ["row 13 (Date=13.02.1949), column 'Date': '13.02.1949' starts with "
                          "day 13, so the dates are day first; set data.dayfirst=true (or "
                          "data.date_format=%d.%m.%Y)"])
    # No day above 12: read month first, the calendar is irregular, and the hint says why.
    one_line_error(dated(tmp_path, days[:4], name="short.csv"),
                   ["no regular step found", "if the dates are day first, set "
                    "data.dayfirst=true"])
    assert iso(load_csv(path, "y", date="Date", date_format="%d.%m.%Y").dates[:1]) == [
        "1949-02-01"]
    # dayfirst never turns year-first dates around.
    assert iso(load_csv(AIRLINE, "Passengers", date="Month", dayfirst=True).dates[:2]) == [
        "1949-01-01", "1949-02-01"]


def test_day_first_dates_read_month_first_only_partly_say_so(tmp_path):
    path = dated(tmp_path, ["12/01/2020", "13/01/2020"], name="slash.csv")
    one_line_error(path, ["row 2 (Date=13/01/2020)", "set data.dayfirst=true",
                          "data.date_format=%d/%m/%Y"])
    assert iso(load_csv(path, "y", date="Date", dayfirst=True).dates) == ["2020-01-12",
                                                                          "2020-01-13"]


@pytest.mark.parametrize("years, freq, first_dates", [
    (["1871", "1872", "1873", "1874"], "YS", ["1871-01-01", "1872-01-01"]),
    (["1871.0", "1872.0", "1873.0"], "YS", ["1871-01-01", "1872-01-01"]),
    (["1871.0", "1871.0833333", "1871.1666667", "1871.25"], "MS", ["1871-01-01", "1871-02-01"]),
    (["1871.0", "1871.25", "1871.5", "1871.75", "1872.0"], "QS", ["1871-01-01", "1871-04-01"]),
])
def test_whole_and_decimal_years(tmp_path, years, freq, first_dates):
    series = load_csv(dated(tmp_path, years), "y", date="Date")
    assert series.freq == freq and iso(series.dates[:2]) == first_dates


def test_a_decimal_year_between_months_is_one_line(tmp_path):
    one_line_error(dated(tmp_path, ["1871.0", "1871.3", "1871.5"]), [
        "row 2 (Date=1871.3), column 'Date': '1871.3' is a decimal year that is not a whole "
        "month"])


def test_dates_with_utc_offsets_are_converted_to_naive_utc(tmp_path):
    stamps = ["2020-01-01T01:00+01:00", "2020-01-02T02:00+02:00", "2020-01-02T19:00-05:00"]
    series = load_csv(dated(tmp_path, stamps), "y", date="Date")
    assert series.dates.dtype == np.dtype("datetime64[us]") and series.freq == "D"
    assert [str(d) for d in series.dates] == ["2020-01-01T00:00:00.000000",
                                              "2020-01-02T00:00:00.000000",
                                              "2020-01-03T00:00:00.000000"]
    one_line_error(dated(tmp_path, ["2020-01-01T00:00Z", "2020-01-02", "2020-01-03"],
                         name="mixed.csv"),
                   ["row 2 (Date=2020-01-02), column 'Date': '2020-01-02' has no UTC offset, "
                    "unlike row 1"])


def test_the_series_task_reads_the_calendar_keys(tmp_path):
    months = [f"01.{m % 12 + 1:02d}.{1949 + m // 12}" for m in range(60)]  # 1 Jan 1949, ...
    path = dated(tmp_path, months, [100 + m % 12 + m // 6 for m in range(60)])
    keys = ["data.kind=series", f"data.path={path}", "data.target=y", "data.date=Date",
            "data.lookback=8", "data.horizon=4", "data.season=12", "data.val_fraction=0.2",
            "data.test_fraction=0.2", "train.batch_size=8"]
    task = SeriesTask(config.load(None, keys + ["data.dayfirst=true", "data.freq=M"]))
    series = task.prepared.series
    assert series.freq == "MS" and iso(series.dates[:2]) == ["1949-01-01", "1949-02-01"]
    with pytest.raises(DataError, match=r"row 1 \(Date=01\.01\.1949\): this date is not on the "
                                        r"W-SUN calendar \(data\.freq\)"):
        SeriesTask(config.load(None, keys + ["data.dayfirst=true", "data.freq=W"]))
    with pytest.raises(DataError, match=r"set data\.dayfirst=true"):
        SeriesTask(config.load(None, keys + ["data.freq=MS"]))


def test_a_given_freq_reindexes_another_spacing_and_rejects_dates_off_its_calendar(tmp_path):
    quarters = iso(pd.date_range("1950-01-01", periods=4, freq="QS"))
    series = load_csv(dated(tmp_path, quarters, [1, 4, 7, 10]), "y", date="Date", freq="MS",
                      missing="interpolate")
    assert series.freq == "MS" and len(series) == 10
    np.testing.assert_allclose(series.values[:, 0], np.arange(1, 11))
    months = ["2020-01-01", "2020-02-01", "2020-02-15", "2020-03-01"]
    one_line_error(dated(tmp_path, months, name="mid.csv"), [
        "row 3 (Date=2020-02-15): 2 weeks after the previous date; expected one step of MS "
        "(data.freq) \N{EM DASH} this date is not on that calendar"], freq="MS")


@pytest.mark.parametrize("freq, season", [("MS", 12), ("ME", 12), ("QS", 4), ("QE-FEB", 4),
                                          ("W-SUN", 52), ("W-WED", 52), ("D", 7), ("B", 5),
                                          ("h", 24), ("YS", 1), ("2W-SUN", 1), (None, 1)])
def test_the_calendar_gives_the_season(freq, season):
    assert season_for(freq) == season


def test_data_season_0_takes_the_calendars_season_and_an_explicit_one_wins(tmp_path):
    months = iso(pd.date_range("1950-01-01", periods=72, freq="MS"))
    path = dated(tmp_path, months, [100 + m % 12 * 3 + m // 4 for m in range(72)])
    keys = ["data.kind=series", f"data.path={path}", "data.target=y", "data.date=Date",
            "data.lookback=8", "data.horizon=4", "data.val_fraction=0.2",
            "data.test_fraction=0.2"]
    assert config.load(None, keys).data.season == 0
    task = SeriesTask(config.load(None, keys))
    assert task.season == 12 and task.meta()["season"] == 12
    assert SeriesTask(config.load(None, keys + ["data.season=3"])).season == 3
    undated = [k for k in keys if not k.startswith("data.date")]
    assert SeriesTask(config.load(None, undated)).season == 1
    flat = dated(tmp_path, months, [5 + m % 12 for m in range(72)], name="flat.csv")
    with pytest.raises(DataError, match=r"does not change at lag 12 \(the season of the "
                                        r"calendar MS; data.season = 0\)"):
        SeriesTask(config.load(None, [k.replace(str(path), str(flat)) for k in keys]))


def test_a_gappy_weekly_series_fails_in_one_line_and_trains_once_interpolated(tmp_path, command):
    from rnnlab.commands.train import main

    weeks = list(pd.date_range("2015-01-04", periods=260, freq="W-SUN").strftime("%Y-%m-%d"))
    values = [100 + 10 * np.sin(2 * np.pi * i / 52.18) + 0.1 * i for i in range(260)]
    kept = [i for i in range(260) if i not in (30, 31, 140)]
    path = dated(tmp_path, [weeks[i] for i in kept], [round(values[i], 3) for i in kept])
    argv = ["--config", DATA.parent / "experiments" / "smoke_series.toml", f"data.path={path}",
            "data.target=y", "data.date=Date", "data.season=0", "data.transform=none",
            f"run.dir={tmp_path / 'runs'}", "run.name=weekly", "model.cell=elman",
            "model.hidden=4", "train.max_steps=2", "train.eval_every=1"]
    code, out, err = command(main, argv)
    assert code == 2 and out == "" and not (tmp_path / "runs").exists()
    line, = err.splitlines()
    assert f"{path}: row 31 (Date={weeks[32]}): 3 weeks after the previous date" in line
    assert "set data.missing=interpolate" in line
    code, out, err = command(main, argv + ["data.missing=interpolate"])
    assert code == 0, err
    meta = json.loads((tmp_path / "runs" / "weekly" / "meta.json").read_text())
    assert meta["data"]["split"]["rows"] == 260 and meta["season"] == 52
