"""Tests for rnnlab.run.metrics_log: the append-only metrics.csv log and reading it back."""

import os

import numpy as np
import pytest

from rnnlab.errors import RnnlabError
from rnnlab.run import metrics_log
from rnnlab.run.metrics_log import METRIC_COLUMNS, MetricsLog, read_metrics


# ------------------------------------------------------------------------------ MetricsLog

def test_metrics_log_writes_the_header_once_and_rows_that_read_back_exactly(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, METRIC_COLUMNS)
    assert log.read() == [] and not path.exists()
    log.append({"step": 100, "epoch": 0, "train_loss": np.array(2.0, dtype="float32"),
                "val_loss": 0.1 + 0.2, "grad_norm": np.float64(1e-310), "lr": 0.002})
    log.append({"step": np.int64(200), "val_loss": float("nan")})
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(METRIC_COLUMNS)
    assert lines[1] == "100,0,,2.0,0.30000000000000004,,,,,,1e-310,0.002"
    rows = log.read()
    assert len(rows) == 2 and list(rows[0]) == list(METRIC_COLUMNS)
    assert rows[0]["val_loss"] == 0.1 + 0.2 and rows[0]["grad_norm"] == 1e-310
    assert rows[0]["bpc"] is None and rows[1]["lr"] is None and np.isnan(rows[1]["val_loss"])
    assert all(isinstance(v, float) for v in rows[0].values() if v is not None)


def test_metrics_log_resumes_an_existing_file_with_the_same_header(tmp_path):
    path = tmp_path / "metrics.csv"
    MetricsLog(path, ["step", "val_loss"]).append({"step": 1, "val_loss": 3.0})
    resumed = MetricsLog(path, ["step", "val_loss"])
    resumed.append({"step": 2, "val_loss": 2.5})
    assert path.read_text() == "step,val_loss\n1,3.0\n2,2.5\n"
    assert read_metrics(path) == [{"step": 1.0, "val_loss": 3.0}, {"step": 2.0, "val_loss": 2.5}]


def test_metrics_log_fsyncs_every_row(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(metrics_log.os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    log = MetricsLog(tmp_path / "metrics.csv", ["step"])
    for step in range(3):
        log.append({"step": step})
    assert len(calls) == 3


def test_metrics_log_rejects_bad_rows_columns_and_headers(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, ["step", "val_loss"])
    with pytest.raises(ValueError, match=r"unknown column 'bpc'; expected some of step, val_loss"):
        log.append({"step": 1, "bpc": 2.0})
    with pytest.raises(TypeError, match=r"row\['val_loss'\]='low': expected a number or None"):
        log.append({"step": 1, "val_loss": "low"})
    assert not path.exists()
    log.append({"step": 1})
    with pytest.raises(RnnlabError, match=r"metrics\.csv: existing header 'step,val_loss' "
                                          r"differs from the expected 'step,rmse'"):
        MetricsLog(path, ["step", "rmse"])
    for columns in ([], ["step", "step"], ["step", ""], "step"):
        with pytest.raises(ValueError, match=r"columns=.*expected a non-empty sequence"):
            MetricsLog(path, columns)
    assert path.read_text() == "step,val_loss\n1,\n"


def test_read_metrics_names_the_line_of_a_torn_or_bad_row(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,val_loss\n1,2.0\n2\n")
    with pytest.raises(RnnlabError, match=r"metrics\.csv: line 3 has 1 cells; expected 2"):
        read_metrics(path)
    path.write_text("step,val_loss\n1,low\n")
    with pytest.raises(RnnlabError, match=r"line 2, column 'val_loss': 'low' is not a number"):
        read_metrics(path)
    with pytest.raises(RnnlabError, match=r"nothing\.csv: cannot read the metrics file"):
        read_metrics(tmp_path / "nothing.csv")


def test_a_row_cut_short_by_a_crash_is_left_out_and_dropped_on_resume(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, ["step", "val_loss"])
    for step in (1, 2, 3):
        log.append({"step": step, "val_loss": 1.0 / step})
    with open(path, "a") as handle:
        handle.write("4,0.2")  # killed before the newline
    assert [row["step"] for row in read_metrics(path)] == [1, 2, 3]
    assert log.truncate_after(3) == 1 and path.read_text().endswith("3,0.3333333333333333\n")
    assert log.truncate_after(1) == 2  # rows after the checkpoint resumed from
    assert read_metrics(path) == [{"step": 1.0, "val_loss": 1.0}]
    mtime = path.stat().st_mtime_ns
    assert log.truncate_after(5) == 0 and path.stat().st_mtime_ns == mtime  # not rewritten
    path.write_text("step,val")  # even the header was cut short
    assert MetricsLog(path, ["step", "val_loss"]).truncate_after(0) == 1
    assert path.read_text() == ""
    assert MetricsLog(tmp_path / "none.csv", ["step"]).truncate_after(0) == 0


def test_truncate_after_refuses_a_damaged_log_and_changes_nothing(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,val_loss\n1,2.0\n2,x\n3,1.0\n")
    with pytest.raises(RnnlabError, match=r"line 3, column 'val_loss': 'x' is not a number"):
        MetricsLog(path, ["step", "val_loss"]).truncate_after(1)
    assert path.read_text() == "step,val_loss\n1,2.0\n2,x\n3,1.0\n"
    path.write_bytes(b"step,val_loss\n\xff\n")
    with pytest.raises(RnnlabError, match=r"metrics\.csv: byte 14 is not valid UTF-8"):
        read_metrics(path)


def test_a_failed_append_is_a_write_error_naming_the_file(tmp_path, monkeypatch):
    import errno

    from rnnlab.errors import WriteError

    log = MetricsLog(tmp_path / "metrics.csv", ["step"])

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(WriteError, match=r"metrics\.csv: cannot write \(No space left on device\)"):
        log.append({"step": 1})


def test_reading_for_a_report_refuses_steps_that_do_not_strictly_increase(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,val_loss\n2,2.0\n4,1.5\n6,1.2\n")
    assert [row["step"] for row in read_metrics(path, increasing=True)] == [2, 4, 6]
    for text, line, found in (("2,2.0\n4,1.5\n4,1.5\n", 4, "step 4 follows step 4"),
                              ("2,2.0\n6,1.5\n4,1.5\n", 4, "step 4 follows step 6"),
                              ("2,2.0\n2.5,1.5\n1.5,1.0\n", 4, "step 1.5 follows step 2.5"),
                              ("2,2.0\n,1.5\n", 3, "no step")):
        path.write_text("step,val_loss\n" + text)
        assert len(read_metrics(path)) == text.count("\n")  # without the check: read as before
        with pytest.raises(RnnlabError) as info:
            read_metrics(path, increasing=True)
        assert str(info.value) == (f"{path}: line {line}: {found}; expected steps that strictly "
                                   f"increase, one row per evaluation (was the run written by "
                                   f"two processes at once?)")
    path.write_text("epoch,val_loss\n1,2.0\n")
    with pytest.raises(RnnlabError, match=r"line 2: no step"):
        read_metrics(path, increasing=True)
