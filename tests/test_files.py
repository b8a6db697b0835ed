"""Tests for rnnlab.files: unique run directories, atomic writes, JSON helpers."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from rnnlab import files
from rnnlab.errors import CheckpointError, RnnlabError, WriteError
from rnnlab.files import (atomic_write_bytes, atomic_write_json, atomic_write_text, atomic_writer,
                          create_run_dir, read_json)


# ------------------------------------------------------------------------------ create_run_dir

def test_create_run_dir_never_reuses_a_directory_or_a_file_name(tmp_path):
    root = tmp_path / "runs"
    first = create_run_dir(root, "lstm-s0")
    (first / "config.json").write_text("{}")
    (root / "lstm-s0-2").write_text("a file, not a run")
    assert create_run_dir(root, "lstm-s0") == root / "lstm-s0-3"
    assert create_run_dir(root, "lstm-s0") == root / "lstm-s0-4"
    assert (first / "config.json").read_text() == "{}"
    assert sorted(p.name for p in root.iterdir()) == ["lstm-s0", "lstm-s0-2", "lstm-s0-3",
                                                      "lstm-s0-4"]
    assert not any((root / "lstm-s0-3").iterdir())


def test_create_run_dir_is_race_safe(tmp_path):
    made, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        made.append(create_run_dir(tmp_path, "grid"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == len(set(made)) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["grid"] + [f"grid-{i}" for i in range(2, 9)])


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b"])
def test_create_run_dir_rejects_names_that_are_not_one_directory(tmp_path, name):
    with pytest.raises(ValueError, match=r"name=.*expected a non-empty directory name"):
        create_run_dir(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ atomic writes

def test_atomic_writes_replace_content_create_parents_and_respect_umask(tmp_path):
    path = tmp_path / "sub" / "dir" / "summary.json"
    atomic_write_json(path, {"step": np.int64(3), "loss": np.float32(0.5), "w": np.arange(2),
                             "best": float("inf"), "text": "caf\u00e9"})
    assert read_json(path) == {"step": 3, "loss": 0.5, "w": [0, 1], "best": float("inf"),
                               "text": "caf\u00e9"}
    assert path.read_text(encoding="utf-8").endswith("}\n")
    atomic_write_json(path, ["\ud800", "\u00e9"])  # a lone surrogate is escaped, not lost
    assert read_json(path) == ["\ud800", "\u00e9"]
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(path, "\ud800")
    atomic_write_text(path, "a\ud800", errors="backslashreplace")
    assert path.read_text() == "a\\ud800"
    atomic_write_text(path, "one\r\ntwo\n")
    assert path.read_bytes() == b"one\r\ntwo\n"
    atomic_write_bytes(path, b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]


def _explode(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("failing", ["replace", "fsync", "body"])
def test_atomic_write_failure_keeps_the_original_and_leaves_no_temp_file(tmp_path, monkeypatch,
                                                                         failing):
    path = tmp_path / "config.json"
    path.write_text('{"old": true}')
    if failing == "body":
        with pytest.raises(RuntimeError, match="half way"):
            with atomic_writer(path) as handle:
                handle.write(b'{"new": ')
                raise RuntimeError("half way")
    else:
        monkeypatch.setattr(files.os, failing, _explode)
        with pytest.raises(OSError, match="No space left"):
            atomic_write_json(path, {"new": True})
        monkeypatch.undo()
    assert path.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_a_write_that_must_not_replace_never_overwrites_a_file_that_appeared_meanwhile(tmp_path):
    path = tmp_path / "summary.json"
    with pytest.raises(WriteError, match="summary.json: cannot write: it exists"):
        with atomic_writer(path, replace=False) as handle:
            handle.write(b'{"ours": true}')
            path.write_text("theirs")       # another process creates the file meanwhile
    assert path.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    other = tmp_path / "new.json"
    atomic_write_json(other, {"ours": True}, replace=False)
    assert read_json(other) == {"ours": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "summary.json"]


@pytest.mark.parametrize("failing, code", [("open", 13), ("write", 28), ("fsync", 5),
                                           ("replace", 28), ("mkdir", 30)])
def test_a_failed_write_is_one_write_error_naming_the_path_and_the_reason(tmp_path, monkeypatch,
                                                                          failing, code):
    path = tmp_path / "checkpoints" / "latest.json"
    path.parent.mkdir()
    path.write_text("old")
    if failing == "mkdir":
        path = tmp_path / "samples" / "step_000001.txt"

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    if failing == "write":
        with pytest.raises(WriteError) as info:
            with atomic_writer(path) as handle:
                handle.write(b"new")
                fail()
    else:
        target = files.os if failing != "mkdir" else files.Path
        monkeypatch.setattr(target, failing, fail)
        with pytest.raises(WriteError) as info:
            atomic_write_text(path, "new")
        monkeypatch.undo()
    assert isinstance(info.value, OSError) and info.value.errno == code
    assert str(info.value) == (f"{path}: cannot write ({os.strerror(code)}); expected a writable "
                               f"folder with free space (files written before are kept)")
    assert (tmp_path / "checkpoints" / "latest.json").read_text() == "old"
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["latest.json"]


def test_create_run_dir_reports_a_folder_it_cannot_create(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(files.os, "mkdir", denied)
    with pytest.raises(WriteError, match=r"runs: cannot create the folder of runs "
                                          r"\(Permission denied\)"):
        create_run_dir(tmp_path / "runs", "lstm-s0")
    monkeypatch.undo()
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(files.os, "mkdir", denied)
    with pytest.raises(WriteError, match=r"runs/lstm-s0: cannot create the run directory "
                                          r"\(Permission denied\)"):
        create_run_dir(tmp_path / "runs", "lstm-s0")


def test_replace_file_and_stale_temporaries(tmp_path, monkeypatch):
    new, old = tmp_path / "best.next.npz", tmp_path / "best.npz"
    new.write_bytes(b"new")
    old.write_bytes(b"old")
    monkeypatch.setattr(files.os, "replace", _explode)
    with pytest.raises(WriteError, match=r"best\.npz: cannot write \(No space left on device\)"):
        files.replace_file(new, old)
    monkeypatch.undo()
    assert (new.read_bytes(), old.read_bytes()) == (b"new", b"old")
    files.replace_file(new, old)
    assert old.read_bytes() == b"new" and not new.exists()
    # A killed process (no such pid) leaves its temporary file: removed; a live one's is kept.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "plots").mkdir()
    stale = tmp_path / "plots" / f".loss.png.{dead}.00ff00ff.tmp"
    live = tmp_path / f".best.npz.{os.getpid()}.00ff00ff.tmp"
    other = tmp_path / ".notes.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"x")
    assert files.remove_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [".notes.tmp", live.name, "best.npz"])


def test_atomic_write_json_refuses_what_json_cannot_hold_before_writing(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text("{}")
    with pytest.raises(TypeError, match=r"meta\.json: cannot write JSON: set .* is not JSON "
                                        r"serialisable"):
        atomic_write_json(path, {"vocab": {"a", "b"}})
    with pytest.raises(TypeError, match=r"data: got str; expected bytes"):
        atomic_write_bytes(path, "text")
    with pytest.raises(TypeError, match=r"text: got bytes; expected str"):
        atomic_write_text(path, b"bytes")
    assert path.read_text() == "{}" and len(list(tmp_path.iterdir())) == 1


# ------------------------------------------------------------------------------ read_json

def test_read_json_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text('{\n  "vocab": ["a",]\n}')
    with pytest.raises(RnnlabError, match=r"meta\.json: invalid JSON at line 2, column 17"):
        read_json(path)
    with pytest.raises(CheckpointError, match=r"missing\.json: file not found"):
        read_json(tmp_path / "missing.json", error=CheckpointError)
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(RnnlabError, match=r"meta\.json: byte 7 is not valid UTF-8"):
        read_json(path)
    with pytest.raises(RnnlabError, match=r"cannot read the file"):
        read_json(tmp_path)


def test_json_written_is_plain_json(tmp_path):
    path = tmp_path / "x.json"
    atomic_write_json(path, {"a": [1, 2.5, None, True]})
    assert json.loads(path.read_text()) == {"a": [1, 2.5, None, True]}
