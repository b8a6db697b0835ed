"""Tests for rnnlab.commands.cli: one-line errors with exit code 2, --debug, Ctrl-C, SIGTERM,
common arguments."""

import argparse
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

from rnnlab import backend
from rnnlab.commands.cli import (EXIT_BUG, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED,
                                 add_common_arguments, raise_on_sigterm, run_command)
from rnnlab.errors import CheckpointError, ConfigError, DataError, Terminated


def raising(error):
    def main(argv):
        raise error
    return main


def test_main_gets_argv_without_debug_and_its_result_is_returned(monkeypatch):
    seen = []
    assert run_command(lambda argv: seen.append(argv) or 7,
                       ["--debug", "--config", "x.toml", "--", "--debug"]) == 7
    assert seen == [["--config", "x.toml", "--", "--debug"]]
    monkeypatch.setattr(sys, "argv", ["rnnlab.train", "model.cell=gru", "--debug"])
    assert run_command(lambda argv: argv) == ["model.cell=gru"]


@pytest.mark.parametrize("error", [ConfigError("exp.toml: unknown key 'model.cel'"),
                                   DataError("air.csv: column 'pasengers' not found\nline two"),
                                   CheckpointError("")])
def test_rnnlab_errors_become_one_line_on_stderr_and_exit_code_2(capsys, error):
    with pytest.raises(SystemExit) as info:
        run_command(raising(error), [])
    assert info.value.code == EXIT_ERROR == 2
    out, err = capsys.readouterr()
    assert out == ""
    expected = {"": "CheckpointError"}.get(str(error), str(error).replace("\n", " "))
    assert err == f"error: {expected}\n"


def test_debug_flag_or_variable_keeps_the_traceback(monkeypatch, capsys):
    with pytest.raises(ConfigError, match="bad key"):
        run_command(raising(ConfigError("bad key")), ["--debug"])
    with pytest.raises(KeyboardInterrupt):
        run_command(raising(KeyboardInterrupt()), ["--debug"])
    monkeypatch.setenv("RNNLAB_DEBUG", "1")
    with pytest.raises(ConfigError, match="bad key"):
        run_command(raising(ConfigError("bad key")), [])
    monkeypatch.setenv("RNNLAB_DEBUG", "0")
    with pytest.raises(SystemExit):
        run_command(raising(ConfigError("bad key")), [])
    assert capsys.readouterr().err == "error: bad key\n"


def test_ctrl_c_exits_130_with_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        run_command(raising(KeyboardInterrupt()), [])
    assert info.value.code == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "interrupted (Ctrl-C)\n"


def test_a_bug_is_one_line_naming_the_file_that_keeps_its_traceback(capsys, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.setattr(backend, "_settings", {})

    def main(argv):
        return {}["multi\nline"]
    main.__module__ = "rnnlab.commands.sample"
    with pytest.raises(SystemExit) as info:
        run_command(main, [])
    assert info.value.code == EXIT_BUG == 1
    line, = capsys.readouterr().err.splitlines()
    kept, = (tmp_path / "cache" / "crashes").iterdir()
    assert kept.name.startswith(f"rnnlab.sample-") and kept.name.endswith(f"-{os.getpid()}.txt")
    assert line == (f"error: rnnlab.sample stopped on an unexpected KeyError: 'multi\\nline'; "
                    f"the traceback is in {kept} (a bug: please report it)")
    text = kept.read_text()
    assert text.startswith("Traceback (most recent call last):") and "in main" in text
    assert text.splitlines()[-1] == "KeyError: 'multi\\nline'"
    # A cache folder that cannot hold it: the temporary folder does.
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(kept))  # a file, not a folder
    with pytest.raises(SystemExit):
        run_command(raising(ZeroDivisionError("division by zero")), [])
    line = capsys.readouterr().err
    path = line.split("the traceback is in ")[1].split(" (a bug")[0]
    assert os.path.dirname(path) == tempfile.gettempdir()
    assert pathlib.Path(path).read_text().endswith("ZeroDivisionError: division by zero\n")
    os.remove(path)
    # --debug keeps the exception and writes nothing.
    with pytest.raises(ValueError, match="not an rnnlab error"):
        run_command(raising(ValueError("not an rnnlab error")), ["--debug"])


def _sigterm_self(argv):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)  # cut short by the handler's exception
    return "not reached"


def test_sigterm_while_a_command_runs_exits_143_with_one_line_and_restores_the_handler(capsys):
    before = signal.getsignal(signal.SIGTERM)
    cleaned = []

    def main(argv):
        try:
            _sigterm_self(argv)
        finally:
            cleaned.append(True)  # clean-up runs, as after Ctrl-C
    with pytest.raises(SystemExit) as info:
        run_command(main, [])
    assert info.value.code == EXIT_TERMINATED == 143 and cleaned == [True]
    assert capsys.readouterr().err == "terminated (SIGTERM)\n"
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(Terminated):
        run_command(_sigterm_self, ["--debug"])
    assert signal.getsignal(signal.SIGTERM) is before
    assert run_command(lambda argv: signal.getsignal(signal.SIGTERM) is before, []) is False


def test_only_the_first_sigterm_raises_and_other_threads_keep_the_handler(capsys):
    caught = []
    with raise_on_sigterm():
        try:
            _sigterm_self([])
        except Terminated:
            os.kill(os.getpid(), signal.SIGTERM)  # during the clean-up: ignored
            time.sleep(0.05)
            caught.append("once")
    assert caught == ["once"]
    seen = []
    thread = threading.Thread(target=lambda: seen.append(
        run_command(lambda argv: signal.getsignal(signal.SIGTERM), [])))
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]  # Python installs handlers in the main one


def test_add_common_arguments_shows_debug_and_version(capsys):
    parser = add_common_arguments(argparse.ArgumentParser(prog="rnnlab.sample"))
    assert "--debug" in parser.format_help() and parser.parse_args([]).debug is False
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("rnnlab.sample (rnnlab ")
    with pytest.raises(TypeError, match=r"parser: got dict; expected an argparse"):
        add_common_arguments({})


def test_command_line_mistakes_are_one_line_errors_too(capsys):
    parser = add_common_arguments(argparse.ArgumentParser(prog="rnnlab.sample"))
    parser.add_argument("--length", type=int)
    parser.add_argument("--checkpoint", choices=("best", "latest"))
    for argv, message in [(["--length", "many"], "argument --length: invalid int value: 'many'"),
                          (["--checkpoint", "first"],
                           "argument --checkpoint: invalid choice: 'first'"),
                          (["--lenght", "3"], "unrecognized arguments: --lenght 3")]:
        with pytest.raises(SystemExit) as info:
            run_command(lambda args: parser.parse_args(args), argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: rnnlab.sample: {message}") and err.count("\n") == 1
        assert err.endswith(" (see --help)\n") and "usage" not in err


def test_a_real_process_exits_2_with_one_line_and_imports_no_pytensor(tmp_path):
    script = textwrap.dedent("""
        import sys
        import rnnlab.run.checkpoint, rnnlab.commands.cli, rnnlab.config, rnnlab.files
        from rnnlab.commands.cli import run_command
        from rnnlab.config import load

        def main(argv):
            print("heavy:", sorted(m for m in ("pytensor", "rnnlab.nn") if m in sys.modules))
            load(None, argv)

        run_command(main)
    """)
    result = subprocess.run([sys.executable, "-c", script, "model.cel=gru"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == "heavy: []\n"
    assert result.stderr == ("error: command line (model.cel=gru): unknown key 'model.cel' "
                             "(did you mean 'model.cell'?)\n")
    assert list(tmp_path.iterdir()) == []


def _smoke_train_process(tmp_path, env):
    """``python -m rnnlab.train`` on the smoke config in a process of its own."""
    root = pathlib.Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "rnnlab.train", "--config",
                           str(root / "experiments" / "smoke_text.toml"),
                           f"data.path={root / 'data' / 'shakespeare.txt'}",
                           f"run.dir={tmp_path / 'runs'}"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_a_cache_folder_that_is_a_file_is_one_line_from_a_real_command(tmp_path):
    taken = tmp_path / "cache"
    taken.write_text("not a folder")
    env = dict(os.environ, RNNLAB_CACHE_DIR=str(taken))
    env.pop("PYTENSOR_FLAGS", None)
    result = _smoke_train_process(tmp_path, env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"error: {taken}: cannot use as the compile cache folder (it is a "
                             f"file); expected a writable directory (RNNLAB_CACHE_DIR)\n")
    assert not (tmp_path / "runs").exists() and taken.read_text() == "not a folder"


def test_a_bad_blas_choice_is_one_line_from_a_real_command(tmp_path):
    result = _smoke_train_process(tmp_path, dict(os.environ, RNNLAB_BLAS="openblas"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: RNNLAB_BLAS='openblas': expected auto, mkl or scipy\n"
    assert not (tmp_path / "runs").exists()
