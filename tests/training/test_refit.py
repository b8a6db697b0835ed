"""rnnlab.training.refit: a finished run trained again on all its data, once, resumably."""

import json
import shutil
from pathlib import Path

import pytest

from rnnlab import config
from rnnlab.commands.train import main
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.run import RunDir
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.run.metrics_log import read_metrics
from rnnlab.training import train
from rnnlab.training.refit import refit, refit_config
from rnnlab.training.session import load_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    cfg = config.load(ROOT / "experiments" / "smoke_series.toml", [
        f"data.path={ROOT / 'data' / 'airline_passengers.csv'}", f"run.dir={root}",
        "run.name=run", "model.cell=elman", "model.hidden=4", "train.max_steps=6",
        "train.eval_every=2", "model.dropout=0.2"])
    return Path(train(cfg, out=lambda line: None)["run_dir"])


def _arrays(run):
    arrays, meta = load_checkpoint(run / "checkpoints" / "latest")
    return {name: array.tobytes() for name, array in arrays.items()}, meta


def test_a_refit_trains_the_checkpoint_s_steps_on_every_row(finished, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    session = load_run(run)
    steps = session.checkpoint["loop"]["step"]
    lines = []
    refitted = refit(session, out=lines.append)
    assert refitted.run_dir == run / f"refit-{steps}"
    assert refitted.checkpoint["loop"]["step"] == steps
    assert refitted.task.prepared.split.val_start == 144 and not refitted.task.has_split("val")
    rows = read_metrics(refitted.run_dir / "metrics.csv")
    assert [int(r["step"]) for r in rows] == list(range(2, steps + 1, 2))
    assert all(r["val_loss"] in ("", None) and r["train_loss"] not in ("", None) for r in rows)
    summary = json.loads((refitted.run_dir / "summary.json").read_text())
    assert summary["best_step"] == steps and summary["test"] is None
    assert lines[0].startswith(f"run directory: {refitted.run_dir}")
    before_lines = list(lines)
    assert not any(line.rstrip().endswith("*") for line in lines)  # no "improved" marks
    # The same seed and config on more rows: a different model, not a copy of the run's.
    assert _arrays(refitted.run_dir)[0] != _arrays(run)[0]
    # Asked again, from the run moved elsewhere: the refit is reused, nothing trains.
    moved = tmp_path / "moved"
    run.rename(moved)
    before = {p: p.read_bytes() for p in (moved / f"refit-{steps}").rglob("*") if p.is_file()}
    again = refit(load_run(moved), out=lines.append)
    assert again.run_dir == moved / f"refit-{steps}" and lines == before_lines
    assert {p: p.read_bytes() for p in again.run_dir.rglob("*") if p.is_file()} == before


def test_a_stopped_refit_resumes_to_the_same_parameters(finished, tmp_path):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    for run in (straight, stopped):
        shutil.copytree(finished, run)
    steps = load_run(straight).checkpoint["loop"]["step"]
    expected = refit(load_run(straight), out=lambda line: None)
    # A refit killed after 3 of its steps: train the first 3 into the refit's own folder.
    session = load_run(stopped)
    partial = refit_config(session.cfg, steps, stopped).replace(train={"max_steps": 3})
    train(partial, out=lambda line: None)
    RunDir(stopped / f"refit-{steps}").save_config(refit_config(session.cfg, steps, stopped))
    resumed = refit(session, out=lambda line: None)
    (arrays, meta), (want, want_meta) = _arrays(resumed.run_dir), _arrays(expected.run_dir)
    assert arrays == want and meta["random_state"] == want_meta["random_state"]
    assert {k: v for k, v in meta["loop"].items() if k != "wall_time"} == \
        {k: v for k, v in want_meta["loop"].items() if k != "wall_time"}


def test_a_folder_that_is_not_this_run_s_refit_is_refused(finished, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    session = load_run(run)
    steps = session.checkpoint["loop"]["step"]
    shutil.copytree(finished, run / f"refit-{steps}")  # a copy of the run, not a refit
    with pytest.raises(RnnlabError, match=rf"refit-{steps}: not a refit of .*remove it"):
        refit(session, out=lambda line: None)


def test_training_without_a_validation_part_keeps_the_latest_as_best(tmp_path, command):
    code, out, err = command(main, [
        "--config", ROOT / "experiments" / "smoke_text.toml", f"run.dir={tmp_path}",
        "run.name=t", "data.max_chars=1000", "data.val_fraction=0", "model.hidden=4",
        "train.max_steps=4", "train.eval_every=2", "run.sample_length=5"])
    assert code == 0, err
    assert "no validation part, so the best checkpoint is the latest" in out.splitlines()[-1]
    best, latest = (load_checkpoint(tmp_path / "t" / "checkpoints" / w)[0] for w in
                    ("best", "latest"))
    assert {k: v.tobytes() for k, v in best.items()} == {k: v.tobytes() for k, v in latest.items()}


def test_early_stopping_needs_a_validation_part():
    with pytest.raises(ConfigError, match=r"train\.patience = 3: expected 0 when "
                                          r"data\.val_fraction = 0"):
        config.load(None, ["data.val_fraction=0", "train.patience=3"])


def test_a_diverging_refit_is_one_line_and_is_not_used(finished, tmp_path, monkeypatch):
    import rnnlab.training.loop as loop

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    session = load_run(run)
    real = loop.divergence
    monkeypatch.setattr(loop, "divergence", lambda loss, gnorm, first, factor, **kw:
                        "forced" if first is not None else real(loss, gnorm, first, factor, **kw))
    with pytest.raises(RnnlabError, match=r"refit-\d+: the refit diverged at step \d+ \(forced\)"
                                          r"; it is not used"):
        refit(session, out=lambda line: None)
    monkeypatch.undo()
    with pytest.raises(RnnlabError, match="the refit diverged"):  # reused: not retrained
        refit(session, out=lambda line: None)
