"""Tests for rnnlab.training.sweep: jobs of python -m commands, run through joblib."""

from rnnlab.training.sweep import execute, run_job


def _job(tmp_path, name, *commands):
    return {"name": name, "commands": [list(c) for c in commands], "cwd": str(tmp_path),
            "log": str(tmp_path / "logs" / f"{name}.log"), "run_dir": str(tmp_path / name)}


def test_a_job_stops_at_its_first_failing_command(tmp_path):
    ok = ["json.tool", "--help"]
    fail = ["rnnlab.no_such_module"]
    result = run_job(_job(tmp_path, "x", ok, fail, ok))
    assert result["returncode"] == 1 and result["run_dir"] == str(tmp_path / "x")
    log = (tmp_path / "logs" / "x.log").read_text()
    assert log.count("$ python -m json.tool --help") == 1      # the third command never ran
    assert "No module named rnnlab.no_such_module" in log


def test_execute_runs_jobs_in_parallel_and_keeps_their_order(tmp_path):
    lines = []
    sleep = ["timeit", "-n", "1", "-r", "1", "import time; time.sleep(0.2)"]
    jobs = [_job(tmp_path, f"job{i}", sleep) for i in range(3)]
    jobs.append(_job(tmp_path, "bad", ["rnnlab.no_such_module"]))
    results = execute(jobs, n_jobs=2, out=lines.append)
    assert [r["name"] for r in results] == ["job0", "job1", "job2", "bad"]
    assert [r["returncode"] for r in results] == [0, 0, 0, 1]
    assert len(lines) == 4 and sorted(line.split("] ")[0] for line in lines) == [
        "[1/4", "[2/4", "[3/4", "[4/4"]
    assert any("bad: exit code 1, see" in line for line in lines)


def test_jobs_run_at_once_share_the_cores(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    code = "import os; print('threads', os.environ.get('NUMBA_NUM_THREADS'))"
    jobs = [_job(tmp_path, f"job{i}", ["timeit", "-n", "1", "-r", "1", "-s", code, "pass"])
            for i in range(3)]
    execute(jobs, n_jobs=2, out=lambda line: None)
    assert "threads 2" in (tmp_path / "logs" / "job0.log").read_text()     # 4 cores, 2 at once
    execute(jobs[:1], n_jobs=2, out=lambda line: None)
    assert "threads None" in (tmp_path / "logs" / "job0.log").read_text()  # alone: all cores
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    execute(jobs, n_jobs=-1, out=lambda line: None)
    assert "threads 3" in (tmp_path / "logs" / "job0.log").read_text()     # the user's choice
