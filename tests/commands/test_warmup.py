"""python -m rnnlab.warmup: compiles (or loads) every kernel and, asked to, models; bad arguments
are one line, exit 2."""

import pytest

from rnnlab.commands import warmup
from rnnlab.commands.cli import run_command


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


def test_models_compiles_the_functions_of_a_config(capsys):
    warmup.main(["--dtypes", "float32", "--models", "experiments/smoke_text.toml"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("compiled the model of experiments/smoke_text.toml in ")


def test_a_missing_model_config_is_a_one_line_error(capsys, tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SystemExit) as exit:
        run_command(warmup.main, ["--dtypes", "float32", "--models", str(missing)])
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0] and err[0].startswith("error:")


def test_setup_names_the_shipped_experiments_the_readme_starts_with():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for path in warmup.setup_models():
        assert path.is_file() and f"--config experiments/{path.name}" in readme
