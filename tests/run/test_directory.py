"""rnnlab.run.RunDir: the one owner of a run directory's layout and checks."""

import ast
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab import config
from rnnlab.errors import CheckpointError, ConfigError, DataError, RnnlabError
from rnnlab.run import CHECKPOINTS, RunDir

ROOT = Path(__file__).resolve().parents[2]
#: The names of a run's files and folders: they appear as code in rnnlab.run.directory only.
LAYOUT = {"config.json", "meta.json", "summary.json", "metrics.csv", "checkpoints", ".lock"}


def _code_strings(tree):
    """The string constants of a module that are not docstrings, with f-strings' pieces."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            yield node.value


def _names(text, name):
    """Whether a string names ``name``: a file name anywhere, a folder as a path component
    (the word "checkpoints" in a help text is not the folder)."""
    if "." in name:
        return name in text
    return text == name or f"{name}/" in text or f"/{name}" in text


def test_the_layout_is_named_in_one_module_only():
    owners = {}
    for path in sorted((ROOT / "rnnlab").rglob("*.py")):
        found = {name for text in _code_strings(ast.parse(path.read_text()))
                 for name in LAYOUT if _names(text, name)}
        for name in found:
            owners.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    assert owners == {name: ["rnnlab/run/directory.py"] for name in LAYOUT}


def _run(tmp_path, kind="text", summary=True, checkpoint="best"):
    run = RunDir.create(tmp_path, "r")
    run.save_config(config.load(None, [f"data.kind={kind}", "data.path=x.csv"],
                                check_files=False))
    run.write_meta({"kind": kind})
    if summary:
        run.write_summary({"steps": 1})
    if checkpoint:
        run.checkpoint(checkpoint).parent.mkdir()
        run.checkpoint(checkpoint).with_suffix(".json").write_text("{}")
    return run


def test_a_written_run_reads_back(tmp_path):
    run = _run(tmp_path)
    assert run.path == tmp_path / "r"
    assert run.check(finished=True) is run and run.finished()
    assert run.load_config().data.kind == "text"
    assert run.read_meta() == {"kind": "text"} and run.read_summary() == {"steps": 1}
    assert run.check_kind("text")["data"]["kind"] == "text"
    assert run.check_checkpoint("best") == tmp_path / "r" / "checkpoints" / "best"
    assert [RunDir.checkpoint_name(which) for which in CHECKPOINTS] == [
        "checkpoints/best", "checkpoints/latest"]
    assert RunDir.create(tmp_path, "r").path.name == "r-2"      # never reused


def test_each_check_fails_in_one_line_naming_the_directory(tmp_path):
    with pytest.raises(RnnlabError, match=r"/nope: no such run directory$"):
        RunDir(tmp_path / "nope").check()
    with pytest.raises(RnnlabError, match=r": not a run directory \(no config.json\)$"):
        RunDir(tmp_path).check()
    unfinished = _run(tmp_path, summary=False, checkpoint=None)
    unfinished.check()
    with pytest.raises(RnnlabError, match=r"/r: not a finished run \(no summary.json\)$"):
        unfinished.check(finished=True)
    with pytest.raises(CheckpointError, match="no 'latest' checkpoint in .*/r/checkpoints; "
                                              "expected latest.npz and latest.json"):
        unfinished.check_checkpoint("latest")
    with pytest.raises(DataError, match="forecast needs a series run; this run has "
                                        r"data.kind='text' \(use python -m rnnlab.sample\)"):
        unfinished.check_kind("series")
    with pytest.raises(ValueError, match="which='worst'"):
        unfinished.checkpoint("worst")


def test_a_config_without_a_data_object_is_a_wrong_kind_not_a_crash(tmp_path):
    run = _run(tmp_path)
    run.config_file.write_text('{"data": null}')
    with pytest.raises(ConfigError, match=r"config\.json: 'data' is null; expected the \[data\] "
                                          r"section rnnlab.train wrote"):
        run.check_kind("text")


def _locked_message(run, pid):
    return (f"run directory {run.path} is being written by process {pid} (lock file "
            f"{run.path}/.lock)")


def test_one_writer_holds_the_lock_a_second_fails_naming_its_pid(tmp_path):
    run = _run(tmp_path)
    with run.lock() as held:
        assert held is run and run.lock_file == run.path / ".lock"
        assert run.lock_file.read_text() == f"{os.getpid()}\n"
        with pytest.raises(RnnlabError) as info:
            with RunDir(run.path).lock():
                pass
        assert str(info.value) == _locked_message(run, os.getpid())
    with run.lock():  # released at the end of the block, also after an error inside it
        pass
    with pytest.raises(ZeroDivisionError), run.lock():
        1 / 0
    with run.lock():
        pass


def test_a_holder_that_has_not_written_its_pid_yet_is_reported_as_unknown(tmp_path):
    run = _run(tmp_path)
    fd = os.open(run.lock_file, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another writer, its pid not written
        with pytest.raises(RnnlabError, match=r"by process \(unknown: no pid in the lock file\)"):
            with run.lock():
                pass
    finally:
        os.close(fd)


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    run = _run(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom rnnlab.run import RunDir\n"
         "with RunDir(sys.argv[1]).lock():\n    print('locked', flush=True)\n    time.sleep(60)",
         str(run.path)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(RnnlabError) as info:
            with run.lock():
                pass
        assert str(info.value) == _locked_message(run, holder.pid)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with run.lock():  # the kernel released it with the process
        assert run.lock_file.read_text() == f"{os.getpid()}\n"
