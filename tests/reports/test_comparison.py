"""Tests for rnnlab.reports.comparison: reading runs, grouping by what differs, statistics, Markdown."""

from pathlib import Path

import pytest

from rnnlab import config
from rnnlab.errors import RnnlabError
from rnnlab.files import write_json
from rnnlab.reports.comparison import format_markdown
from rnnlab.reports.stats import RunRecord, group_runs, load_runs, mean_std, summarize


def _record(name, overrides, summary=None):
    cfg = config.load(None, overrides, check_files=False)
    return RunRecord(Path(name), cfg, summary or {}, [])


def test_groups_by_every_differing_key_but_seed_and_place():
    records = [_record(f"r{i}", [f"model.cell={cell}", f"train.lr={lr}", f"train.seed={i}",
                                 f"run.name=r{i}", f"run.dir=/x{i}"])
               for i, (cell, lr) in enumerate([("elman", 0.1), ("lstm", 0.1), ("elman", 0.01),
                                                ("elman", 0.1)])]
    groups = group_runs(records)
    assert {label: [r.name for r in rs] for label, rs in groups.items()} == {
        "model.cell=elman, train.lr=0.1": ["r0", "r3"],
        "model.cell=lstm, train.lr=0.1": ["r1"],
        "model.cell=elman, train.lr=0.01": ["r2"]}
    same = group_runs([_record("a", ["train.seed=0"]), _record("b", ["train.seed=1"])])
    assert list(same) == ["lstm"]


def test_mean_std_skips_missing_and_non_finite_values():
    assert mean_std([None, float("nan"), 4.0]) == {"mean": 4.0, "std": None, "n": 1,
                                                   "values": [4.0]}
    assert mean_std([]) == {"mean": None, "std": None, "n": 0, "values": []}


def test_markdown_table_cells():
    summaries = [{"best": {"val_loss": 9 * v, "bpc": v}, "test": {"loss": 9 * v, "bpc": v + 1},
                  "steps": 10, "load": {"start": None}} for v in (1.0, 2.0)]
    records = [_record(f"s{i}", [f"train.seed={i}"], s) for i, s in enumerate(summaries)]
    damaged = {"name": "s0", "group": "lstm", "seed": 0, "stop_reason": "max_steps", "steps": 10,
               "path": "s0", "per_s": None, "load": {"start": None}}   # a damaged summary.json
    report = {"kind": "text", "groups": summarize(group_runs(records)), "runs": [damaged],
              "title": "t"}
    markdown = format_markdown(report)
    # bits/char in the table (the nats, 9 and 18 here, stay in report.json)
    assert "| lstm | 2 | 1.5 ± 0.71 | 2.5 ± 0.71 | — | — | — | 10 ± 0 | — | — |" in markdown
    assert "| s0 | lstm | 0 | max_steps | 10 | — | — → — | `s0` |" in markdown


def test_load_runs_refuses_unfinished_and_mixed_runs(tmp_path):
    for name, kind in (("text", "text"), ("series", "series")):
        run = tmp_path / name
        run.mkdir()
        extra = ["data.target=y"] if kind == "series" else []
        config.save_resolved(config.load(None, [f"data.kind={kind}"] + extra,
                                         check_files=False), run / "config.json")
    with pytest.raises(RnnlabError, match="not a finished run"):
        load_runs([tmp_path / "text"])
    for name in ("text", "series"):
        write_json(tmp_path / name / "summary.json", {})
        (tmp_path / name / "metrics.csv").write_text("step,val_loss\n")
    with pytest.raises(RnnlabError, match="mix data kinds"):
        load_runs([tmp_path / "text", tmp_path / "series"])


def test_load_runs_refuses_a_metrics_log_whose_steps_go_backwards(tmp_path):
    run = tmp_path / "mangled"
    run.mkdir()
    config.save_resolved(config.load(None, [], check_files=False), run / "config.json")
    write_json(run / "summary.json", {})
    # Two processes writing one run interleaved their rows: a step repeats, one goes back.
    (run / "metrics.csv").write_text("step,val_loss\n2,2.0\n4,1.8\n2,2.0\n6,1.7\n")
    with pytest.raises(RnnlabError) as info:
        load_runs([run])
    assert str(info.value).startswith(f"{run / 'metrics.csv'}: line 4: step 2 follows step 4; "
                                      f"expected steps that strictly increase")
    (run / "metrics.csv").write_text("step,val_loss\n2,2.0\n4,1.8\n6,1.7\n")
    assert [row["step"] for row in load_runs([run])[0].rows] == [2, 4, 6]
