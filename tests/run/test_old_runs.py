"""Run directories written by rnnlab 0.1.0 (tests/fixtures/run_dirs) load, sample, forecast,
report and resume with today's code.

The fixtures were made by ``python -m rnnlab.train`` of the release before
:class:`rnnlab.run.RunDir` owned the layout (smoke configs, hidden 4, two steps; the plots left
out).  Their data paths are relative to the project root, so the tests run from there.
"""

import json
import shutil
from pathlib import Path

import pytest

from rnnlab.commands import forecast, sample, train
from rnnlab.reports.stats import load_runs
from rnnlab.run import RunDir
from rnnlab.tasks import sampling
from rnnlab.training.session import load_run

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "run_dirs"


@pytest.fixture
def old_run(tmp_path, monkeypatch):
    """A copy of a 0.1.0 run (the tests may write into it), with the project root as cwd."""
    monkeypatch.chdir(ROOT)

    def copy(name):
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target
    return copy


def test_an_old_text_run_loads_and_samples(old_run, command):
    run = old_run("text-0.1.0")
    session = load_run(run, which="latest")
    assert session.checkpoint["loop"]["step"] == 2 and session.task.vocab.size > 10
    text = sampling.generate(session, length=12, seed=1)
    assert len(text) == 12 and set(text) <= set(session.task.vocab.chars)
    code, out, err = command(sample.main, [run, "--length", "12", "--seed", "1"])
    assert (code, err) == (0, "") and out == text + "\n"   # best is step 2 too


def test_an_old_series_run_forecasts_and_reports(old_run, command):
    run = old_run("series-0.1.0")
    code, out, err = command(forecast.main, [run])
    assert code == 0, err
    assert "rolling-origin backtest" in out
    saved = json.loads((RunDir(run).forecast_dir / "forecast.json").read_text())
    assert saved and isinstance(saved, dict)
    (record,) = load_runs([run])
    assert record.kind == "series" and record.summary["steps"] == 2


def test_an_old_run_resumes(old_run, command):
    run = old_run("text-0.1.0")
    code, out, err = command(train.main, ["--resume", run, "train.max_steps=3"])
    assert code == 0, err
    assert RunDir(run).read_summary()["steps"] == 3
    assert len(RunDir(run).metrics_file.read_text().splitlines()) == 1 + 3
