"""rnnlab.tasks: batches, carried states, metrics and metadata of the two data kinds.

Nothing here compiles: ``functions`` are numpy stand-ins with the compiled functions'
signatures, so batches, state handling and metrics are checked exactly.
"""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from rnnlab import config
from rnnlab.datasets.text import Vocabulary
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluation import baselines, metrics
from rnnlab.model.networks import build_network
from rnnlab.tasks import SeriesTask, TextTask, make_task

TEXT = "".join(chr(97 + (i * 7) % 26) for i in range(1000))  # 26 letters, aperiodic enough


def _text_cfg(path, *overrides):
    return config.load(None, [f"data.path={path}", "data.seq_len=10", "train.batch_size=4",
                              "data.val_fraction=0.1", "data.test_fraction=0.1",
                              "model.hidden=5", "model.cell=lstm", "model.layers=2",
                              *overrides])


@pytest.fixture
def text_path(tmp_path):
    path = tmp_path / "letters.txt"
    path.write_text(TEXT)
    return path


def test_text_batches_continue_each_stream_and_cover_the_training_part(text_path):
    task = make_task(_text_cfg(text_path))
    assert isinstance(task, TextTask) and task.kind == "text" and task.vocab.size == 26
    n = task.batches_per_epoch()
    assert n == (800 - 1) // 40
    batches = [task.train_batch(0, i) for i in range(n)]
    x = np.concatenate([b[0] for b in batches], axis=1)  # (4 streams, n * 10)
    y = np.concatenate([b[1] for b in batches], axis=1)
    assert x.dtype == y.dtype == np.int32 and x.shape == (4, n * 10)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # each batch continues the last
    train_ids = task.vocab.encode(TEXT[:800])
    np.testing.assert_array_equal(x.ravel(), train_ids[:x.size])
    np.testing.assert_array_equal(task.train_batch(5, 3)[0], batches[3][0])  # same each epoch


def test_text_states_follow_the_network_and_evaluation_carries_them(text_path):
    cfg = _text_cfg(text_path, "train.eval_batches=0")
    task = make_task(cfg)
    assert task.network_shape() == {"vocab_size": 26}
    net = build_network(task, cfg.model)
    assert net.output.output_shape == (None, None, 26)
    states = net.initial_states(3)
    assert [s.shape for s in states] == [(3, 5)] * 4  # (hid, cell) x 2 layers
    assert all(s.dtype == np.float32 and not s.any() for s in states)

    seen = []

    def evaluate(x, y, *states):
        seen.append((x.shape, [float(s[0, 0]) for s in states]))
        loss = 1.5 if len(seen) % 2 else 2.5
        return [np.float32(loss), *(s + 1 for s in states)]

    functions = SimpleNamespace(evaluate=evaluate, initial_states=net.initial_states)
    result = task.evaluate(functions, "val")
    batches = len(seen)
    assert batches == (100 - 1) // 40  # 4 streams of 10 characters fit in the 100 of val
    assert [s for _, s in seen] == [[float(i)] * 4 for i in range(batches)]
    assert result["loss"] == pytest.approx(2.0)
    assert result["bpc"] == pytest.approx(2.0 / math.log(2))
    assert result["perplexity"] == pytest.approx(math.exp(2.0))
    seen.clear()
    make_task(cfg.replace(train={"eval_batches": 1})).evaluate(functions, "test")
    assert len(seen) == 1


def test_text_meta_rebuilds_the_task_without_the_file(text_path, tmp_path):
    cfg = _text_cfg(text_path)
    meta = json.loads(json.dumps(make_task(cfg).meta()))
    assert meta["sizes"] == {"train": 800, "val": 100, "test": 100}
    assert Vocabulary.from_dict(meta["vocabulary"]).chars == tuple(sorted(set(TEXT)))
    text_path.unlink()
    rebuilt = make_task(cfg, meta)
    assert rebuilt.vocab.chars == tuple(sorted(set(TEXT)))
    assert len(build_network(rebuilt, cfg.model).initial_states(1)) == 4
    with pytest.raises(DataError, match="letters.txt"):
        rebuilt.batches_per_epoch()  # the data is read only when needed
    with pytest.raises(DataError, match="'series' run"):
        make_task(cfg, {"kind": "series"})


@pytest.mark.parametrize("overrides, message", [
    (["data.seq_len=300"], "too few"),                          # training part too short
    (["data.val_fraction=0.01", "data.seq_len=20"], "validation part"),
    (["run.prime=ABC"], "run.prime = 'ABC': character 'A'"),
])
def test_text_sizes_that_cannot_work_fail_at_once(text_path, overrides, message):
    with pytest.raises(DataError, match=message):
        make_task(_text_cfg(text_path, *overrides))


def _series_path(tmp_path, n=120, covariate=False):
    t = np.arange(n)
    y = 100 + 10 * np.sin(2 * np.pi * t / 12) + 0.5 * t
    lines = ["month,y" + (",x" if covariate else "")]
    lines += [f"{i},{v:.6f}" + (f",{np.cos(i):.6f}" if covariate else "") for i, v in zip(t, y)]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _series_cfg(path, *overrides):
    return config.load(None, ["data.kind=series", f"data.path={path}", "data.target=y",
                              "data.lookback=12", "data.horizon=6", "data.season=12",
                              "data.val_fraction=0.2", "data.test_fraction=0.2",
                              "train.batch_size=16", "train.seed=4", *overrides])


def _corpus(folder, count=6, size=300):
    """``count`` text files of distinct letters under ``folder`` (one in a sub-folder), an empty
    one and a hidden one."""
    (folder / "sub").mkdir(parents=True)
    texts = {}
    for index in range(count):
        name = f"sub/f{index}.txt" if index == count - 1 else f"f{index}.txt"
        texts[name] = "".join(chr(97 + (index * 3 + i) % 26) for i in range(size + 10 * index))
        (folder / name).write_text(texts[name])
    (folder / "empty.txt").write_text("")
    (folder / ".hidden.txt").write_text("HIDDEN")
    return texts


def test_a_folder_is_read_in_path_order_and_its_files_joined_by_the_separator(tmp_path):
    texts = _corpus(tmp_path / "notes")
    task = make_task(_text_cfg(tmp_path / "notes", "data.separator=|"))
    names = sorted(texts)
    assert task.meta()["files"] == names and "file_parts" not in task.meta()
    joined = "|".join(texts[name] for name in names)
    assert "H" not in task.vocab and "|" in task.vocab
    parts = task._parts
    decoded = "".join(task.vocab.decode(parts[p]) for p in ("train", "val", "test"))
    assert decoded == joined                       # by position: the joined text, cut in three
    pattern = make_task(_text_cfg(tmp_path / "notes" / "*.txt", "data.separator=|"))
    assert pattern.meta()["files"] == [str(tmp_path / "notes" / n) for n in names if "/" not in n]


def test_split_by_file_gives_each_part_whole_files_and_a_resume_reads_the_same(tmp_path):
    texts = _corpus(tmp_path / "notes", count=10)
    cfg = _text_cfg(tmp_path / "notes", "data.split_by=file", "data.val_fraction=0.2",
                    "data.test_fraction=0.2", "data.split_seed=3")
    task = make_task(cfg)
    meta = task.meta()
    parts = meta["file_parts"]
    assert sorted(parts["train"] + parts["val"] + parts["test"]) == sorted(texts)
    for part in ("train", "val", "test"):
        assert parts[part]
        expected = "\n\n".join(texts[name] for name in parts[part])
        assert task.vocab.decode(task._parts[part]) == expected
    other = make_task(_text_cfg(tmp_path / "notes", "data.split_by=file", "data.val_fraction=0.2",
                                "data.test_fraction=0.2", "data.split_seed=4"))
    assert other.meta()["file_parts"] != parts                  # the seed draws the split
    # A resume reads the saved parts (not a new draw), even from a folder that moved.
    (tmp_path / "notes").rename(tmp_path / "moved")
    moved = cfg.replace(data={"path": str(tmp_path / "moved")})
    swapped = json.loads(json.dumps(meta))
    first_train, first_val = swapped["file_parts"]["train"][0], swapped["file_parts"]["val"][0]
    swapped["file_parts"]["train"][0], swapped["file_parts"]["val"][0] = first_val, first_train
    resumed = TextTask(moved, swapped, "runs/x/meta.json")
    assert resumed.vocab.decode(resumed._parts["val"] if resumed.has_split("val") else []) == \
        "\n\n".join(texts[name] for name in swapped["file_parts"]["val"])
    assert resumed.meta()["file_parts"] == swapped["file_parts"] != parts
    (tmp_path / "moved" / "new.txt").write_text("abc")
    with pytest.raises(DataError, match=r"^runs/x/meta\.json: the run read 10 files of data\.path "
                                        r"= '.*moved', which changed \(added: new\.txt\); "
                                        r"expected the same files to continue it$"):
        TextTask(moved, meta, "runs/x/meta.json").batches_per_epoch()
    (tmp_path / "moved" / "new.txt").unlink()
    (tmp_path / "moved" / "f1.txt").write_text(texts["f1.txt"] + "more")
    with pytest.raises(DataError, match=r"which changed \(edited: f1\.txt\)"):
        TextTask(moved, meta, "runs/x/meta.json").batches_per_epoch()


def test_a_folder_reads_each_file_once_and_never_the_runs_inside_it(tmp_path):
    texts = _corpus(tmp_path / "notes")
    (tmp_path / "notes" / "link.txt").symlink_to(tmp_path / "notes" / "f0.txt")
    run = tmp_path / "notes" / "runs" / "old-run"
    run.mkdir(parents=True)
    (run / "best.npz").write_bytes(b"\xff\x00binary")               # not UTF-8
    task = make_task(_text_cfg(tmp_path / "notes", f"run.dir={tmp_path / 'notes' / 'runs'}"))
    assert task.meta()["files"] == sorted(texts)                # no link.txt, no runs/...
    assert task.meta()["file_chars"] == [len(texts[name]) for name in sorted(texts)]


@pytest.mark.parametrize("damage", [
    lambda m: m.update(files="f0.txt"),
    lambda m: m["file_parts"].update(val=m["file_parts"]["train"]),
    lambda m: m["file_parts"].pop("test"),
    lambda m: m["file_parts"].update(train=[]),
])
def test_a_damaged_file_list_in_meta_is_one_line(tmp_path, damage):
    _corpus(tmp_path / "notes")
    cfg = _text_cfg(tmp_path / "notes", "data.split_by=file")
    meta = json.loads(json.dumps(make_task(cfg).meta()))
    damage(meta)
    with pytest.raises(DataError, match=r"^m\.json: '(files|file_parts)' .*; the file is damaged$"):
        TextTask(cfg, meta, "m.json").batches_per_epoch()


def test_max_chars_cuts_the_joined_files_before_the_split(tmp_path):
    texts = _corpus(tmp_path / "notes")
    names = sorted(texts)
    budget = len(texts[names[0]]) + 2 + 5
    task = make_task(_text_cfg(tmp_path / "notes", f"data.max_chars={budget}",
                               "data.val_fraction=0.2", "data.test_fraction=0.2"))
    assert task.meta()["files"] == names[:2]
    assert sum(task.meta()["sizes"].values()) == budget
    with pytest.raises(DataError, match=r"cut at data\.max_chars = 10: data\.split_by = 'file' "
                                        r"needs at least 3 files"):
        make_task(_text_cfg(tmp_path / "notes", "data.max_chars=10", "data.split_by=file"))


def test_series_epochs_shuffle_reproducibly_and_cover_every_window(tmp_path):
    task = make_task(_series_cfg(_series_path(tmp_path)))
    assert isinstance(task, SeriesTask)
    assert build_network(task, task.cfg.model).initial_states(8) == []  # no carried state
    windows = task.prepared.train
    n = len(windows.t)
    assert task.batches_per_epoch() == math.ceil(n / 16)

    def epoch(e):
        xs = [task.train_batch(e, i)[0] for i in range(task.batches_per_epoch())]
        return np.concatenate(xs)

    first = epoch(0)
    assert first.shape == windows.x.shape
    order = [int(np.flatnonzero((windows.x == w).all(axis=(1, 2)))[0]) for w in first]
    assert sorted(order) == list(range(n)) and order != list(range(n))
    np.testing.assert_array_equal(epoch(0), first)        # rebuilt from (seed, epoch) alone
    assert not np.array_equal(epoch(1), first)
    again = make_task(_series_cfg(_series_path(tmp_path)))
    np.testing.assert_array_equal(again.train_batch(1, 2)[1], task.train_batch(1, 2)[1])
    with pytest.raises(ValueError, match="index"):
        task.train_batch(0, task.batches_per_epoch())


def _predict_truth(task, split):
    """A stand-in predict that returns the true scaled targets of ``split``'s windows."""
    windows = task.windows(split)

    def predict(x):
        rows = [int(np.flatnonzero((windows.x == w).all(axis=(1, 2)))[0]) for w in x]
        return [windows.y[rows]]
    return SimpleNamespace(predict=predict)


def test_series_metrics_are_in_original_units_and_mase_uses_the_seasonal_naive_scale(tmp_path):
    task = make_task(_series_cfg(_series_path(tmp_path), "data.transform=log"))
    perfect = task.evaluate(_predict_truth(task, "test"), "test")
    assert perfect["loss"] < 1e-10 and perfect["rmse"] < 1e-4 and perfect["mase"] < 1e-5

    prep = task.prepared
    windows = prep.test
    history = [prep.series.targets[:t] for t in windows.t]
    snaive = np.stack([baselines.seasonal_naive(h, 6, 12) for h in history])
    scaled = prep.preprocessor.transform(snaive.reshape(-1, 1)).reshape(snaive.shape)
    result = task.evaluate(SimpleNamespace(predict=lambda x: [scaled.astype(np.float32)]), "test")
    actual = prep.actuals(windows)
    assert result["rmse"] == pytest.approx(metrics.rmse(actual, snaive), rel=1e-4)
    assert result["mae"] == pytest.approx(metrics.mae(actual, snaive), rel=1e-4)
    assert result["mase"] == pytest.approx(
        metrics.mase(actual, snaive, prep.split.train, m=12), rel=1e-4)
    assert result["loss"] == pytest.approx(float(np.mean((scaled - windows.y) ** 2)), rel=1e-4)


def test_recursive_strategy_trains_one_step_and_rolls_out_with_covariates(tmp_path):
    cfg = _series_cfg(_series_path(tmp_path, covariate=True), "data.strategy=recursive",
                      "data.covariates=x", "model.cell=gru", "model.hidden=3")
    task = make_task(cfg)
    x, y = task.train_batch(0, 0)
    assert x.shape == (16, 12, 2) and y.shape == (16, 1, 1)
    assert build_network(task, cfg.model).output.output_shape == (None, 1, 1)
    calls = []

    def predict(x):  # "next value = last value + 1", in scaled units
        calls.append(x.copy())
        return [x[:, -1:, :1] + 1]

    windows = task.windows("val")
    forecast = task.forecast(SimpleNamespace(predict=predict), windows)
    assert forecast.shape == (len(windows.t), 6, 1) and len(calls) == 6
    np.testing.assert_allclose(forecast[:, :, 0], windows.x[:, -1:, 0] + np.arange(1, 7),
                               rtol=1e-6)
    # The covariate fed at step k is the known future value of that row.
    values = task.prepared.preprocessor.transform(task.prepared.series.values)
    np.testing.assert_allclose(calls[3][:, -1, 1], values[windows.t + 2, 1], rtol=1e-6)


def test_series_meta_sizes_the_network_and_detects_a_changed_file(tmp_path):
    path = _series_path(tmp_path)
    cfg = _series_cfg(path, "data.transform=log+diff")
    meta = json.loads(json.dumps(make_task(cfg).meta()))
    assert meta["sizes"]["val"] > 0 and meta["data"]["preprocessor"]
    rebuilt = make_task(cfg, meta)
    assert build_network(rebuilt, cfg.model).output.output_shape == (None, 6, 1)
    path.write_text(path.read_text().replace("\n5,", "\n5,1").replace("month", "month", 1))
    with pytest.raises(DataError, match="changed since training"):
        make_task(cfg, meta).batches_per_epoch()


@pytest.mark.parametrize("overrides, message", [
    (["data.lookback=200"], "needs at least"),
    (["data.season=100", "data.val_fraction=0.4", "data.test_fraction=0.2",
      "data.lookback=4", "data.horizon=2"], "data.season = 100"),
])
def test_series_sizes_that_cannot_work_fail_at_once(tmp_path, overrides, message):
    with pytest.raises(DataError, match=message):
        make_task(_series_cfg(_series_path(tmp_path), *overrides))


def _dated_two_target_path(tmp_path, n=120):
    """Monthly rows from 2000-01: targets ``a`` (seasonal) and ``b`` (rising), covariate ``x``."""
    t = np.arange(n)
    dates = np.datetime64("2000-01", "M") + t
    lines = ["month,a,b,x"] + [f"{d},{100 + 10 * np.sin(2 * np.pi * i / 12) + 0.3 * i:.6f},"
                               f"{50 + 0.5 * i:.6f},{np.cos(i):.6f}" for i, d in zip(t, dates)]
    path = tmp_path / "two.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("target", ["data.target=a,b", "data.target=[a, b]",
                                    'data.target=["a", "b"]'])
def test_several_targets_are_forecast_together_and_scored_per_column(tmp_path, target):
    cfg = _series_cfg(_dated_two_target_path(tmp_path), target, "data.covariates=x",
                      "data.date=month")
    assert cfg.data.target == ("a", "b")
    task = make_task(cfg)
    x, y = task.train_batch(0, 0)
    assert x.shape == (16, 12, 3) and y.shape == (16, 6, 2)
    assert task.network_shape()["n_targets"] == 2
    assert build_network(task, cfg.model).output.output_shape == (None, 6, 2)
    assert task.prepared.series.target_names == ("a", "b")
    perfect = task.evaluate(_predict_truth(task, "val"), "val")
    assert perfect["rmse"] < 1e-4 and perfect["mase"] < 1e-5


def test_a_toml_string_target_is_a_list_of_one(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'[data]\nkind = "series"\npath = "{_series_path(tmp_path)}"\ntarget = "y"\n')
    assert config.load(path).data.target == ("y",)


def test_parts_start_at_their_dates_and_meta_records_them(tmp_path):
    cfg = _series_cfg(_dated_two_target_path(tmp_path), "data.target=a", "data.date=month",
                      "data.val_start=2006-01", "data.test_start=2008-07")
    split = make_task(cfg).meta()["data"]["split"]
    assert (split["val_start"], split["test_start"]) == (72, 102)
    assert split["val_start_date"].startswith("2006-01")
    assert split["test_start_date"].startswith("2008-07")
    # One part by date, the other by fraction: the test part is the last 20 % (24 rows).
    mixed = make_task(_series_cfg(_dated_two_target_path(tmp_path), "data.target=a",
                                  "data.date=month", "data.val_start=2006-01"))
    assert mixed.meta()["data"]["split"]["test_start"] == 96


@pytest.mark.parametrize("overrides, error, message", [
    (["data.val_start=2006-13"], ConfigError,
     r"^data\.val_start = '2006-13': expected a date such as 1958-01"),
    (["data.val_start=2009-01", "data.test_start=2008-01"], DataError,
     r"two\.csv: data\.val_start = '2009-01', data\.test_start = '2008-01' on 120 rows "
     r"puts the "
     r"validation start \(row 109\) after the test start \(row 97\)"),
    (["data.test_start=2030-01"], DataError,
     r"two\.csv: data\.val_fraction = 0\.2, data\.test_start = .* leaves the test part empty"),
    (["data.val_start=1990-01"], DataError, "leaves the training part empty"),
])
def test_split_dates_that_cannot_work_name_their_keys(tmp_path, overrides, error, message):
    cfg = _series_cfg(_dated_two_target_path(tmp_path), "data.target=a", "data.date=month",
                      *overrides)
    with pytest.raises(error, match=message):
        make_task(cfg)


def test_a_split_date_needs_a_dated_series():
    with pytest.raises(ConfigError, match=r": data\.test_start = '2000-01': expected '' unless "
                                          r"the data is a series with dates"):
        config.load(None, ["data.kind=series", "data.target=y", "data.test_start=2000-01"])


def test_a_fractional_season_scales_mase_by_interpolated_changes(tmp_path):
    weeks = np.arange(300)
    y = 50 + 10 * np.sin(2 * np.pi * weeks / (365.25 / 7)) + 0.01 * weeks
    dates = np.datetime64("2000-01-02") + 7 * weeks
    path = tmp_path / "weekly.csv"
    path.write_text("week,y\n" + "".join(f"{d},{v:.6f}\n" for d, v in zip(dates, y)))
    base = ["data.date=week", "data.lookback=8", "data.horizon=4"]
    task = make_task(_series_cfg(path, *base, "data.season=52.18"))
    assert task.season == 52.18 and json.loads(json.dumps(task.meta()))["season"] == 52.18
    # evaluate() scales MASE at 52.18: a constant forecast scored by hand at both seasons
    zeros = SimpleNamespace(predict=lambda x: [np.zeros((len(x), 4, 1), np.float32)])
    windows = task.windows("val")
    raw = task.prepared.inverse(np.zeros((len(windows.t), 4, 1)), windows)
    actual, train = task.prepared.actuals(windows), task.prepared.split.train[:, :1]
    found = task.evaluate(zeros, "val")["mase"]
    assert found == pytest.approx(metrics.mase(actual, raw, train, m=52.18), rel=1e-5)
    assert found != pytest.approx(metrics.mase(actual, raw, train, m=52), rel=1e-5)
    assert make_task(_series_cfg(path, *base, "data.season=52")).season == 52
    assert make_task(_series_cfg(path, *base, "data.season=0")).season == 52  # the calendar's
    assert isinstance(make_task(_series_cfg(path, *base, "data.season=52.0")).season, int)
