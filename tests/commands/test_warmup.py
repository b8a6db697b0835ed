"""python -m rnnlab.warmup: compiles (or loads) kernels and, asked to, models, in parallel
processes, a model after the kernels it calls; bad arguments are one line, exit 2."""

import pytest

from rnnlab import config
from rnnlab.commands import warmup
from rnnlab.commands.cli import run_command

GROUPS = list(warmup.KERNEL_GROUPS)


def test_warmup_runs_every_kernel_group_once_and_says_when_it_is_ready(capsys):
    warmup.main(["--dtypes", "float64", "--jobs", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("rnnlab.warmup: 5 kernel groups (float64), 0 models, 1 process, "
                               "cache ")
    assert lines[1:-1] == [line for line in lines[1:-1] if line.endswith(" s")]
    assert [line.split()[2] for line in lines[1:-1]] == GROUPS
    assert lines[-1].startswith("rnnlab.warmup: ready in ")


def test_two_processes_share_the_groups_between_them(capsys):
    warmup.main(["--dtypes", "float64", "--jobs", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert "2 processes" in lines[0]
    assert sorted(line.split()[2] for line in lines[1:-1]) == sorted(GROUPS)


def test_a_model_starts_only_after_the_kernels_it_calls():
    kernels = [("kernels", group, "float32") for group in ("lstm", "elman", "crossentropy")]
    model = ("model", "a.toml", (kernels[0], kernels[2]))
    items = kernels + [model]
    assert warmup._startable(items, set(), items, 2) == kernels[:2]
    assert warmup._startable([kernels[2], model], set(kernels[:2]), items, 2) == [kernels[2]]
    assert warmup._startable([model], set(kernels), items, 1) == [model]
    # kernels that are not among the items (another dtype) are not waited for
    assert warmup._startable([model], set(), [model], 2) == [model]


def test_a_config_needs_the_kernels_of_its_cell_input_and_loss():
    cfg = config.load("experiments/shakespeare_lstm.toml", ["model.cell=gru", "model.embedding=8"])
    assert warmup.kernel_groups(cfg) == ["gru", "embedding", "crossentropy"]
    assert warmup.kernel_groups(config.load("experiments/airline_lstm.toml")) == ["lstm"]


@pytest.mark.parametrize("argv, named", [(["--dtypes", "float16"], "float16"),
                                         (["--jobs", "0"], "--jobs 0")])
def test_a_bad_argument_is_a_one_line_error(capsys, argv, named):
    with pytest.raises(SystemExit) as exit:
        run_command(warmup.main, argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and err[0].startswith("error:")


def test_models_compiles_the_functions_of_a_config(capsys):
    warmup.main(["--dtypes", "float32", "--jobs", "1", "--models", "experiments/smoke_text.toml"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert "1 model, 1 process" in lines[0]
    assert lines[-2].startswith("compiled the model of experiments/smoke_text.toml in ")
    assert lines[-1].startswith("rnnlab.warmup: ready in ")


def test_a_missing_model_config_is_a_one_line_error_before_anything_compiles(capsys, tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SystemExit) as exit:
        run_command(warmup.main, ["--dtypes", "float32", "--models", str(missing)])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0] and err[0].startswith("error:")
    assert captured.out == ""


def test_setup_names_the_shipped_experiments_the_readme_starts_with():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for path in warmup.setup_models():
        assert path.is_file() and f"--config experiments/{path.name}" in readme
