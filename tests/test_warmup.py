"""python -m rnnlab.warmup: compiles (or loads) every kernel; bad --dtypes is one line, exit 2."""

import pytest

from rnnlab import warmup
from rnnlab.cli import run_command


def test_warmup_runs_every_kernel(capsys):
    warmup.main(["--dtypes", "float64"])
    out = capsys.readouterr().out
    assert out.startswith("rnnlab kernels ready for float64 in ") and "cache:" in out


def test_bad_dtype_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exit:
        run_command(warmup.main, ["--dtypes", "float16"])
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "float16" in err[0] and err[0].startswith("error:")
