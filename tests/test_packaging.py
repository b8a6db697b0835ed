"""setup.py: pinned requirements, the extras, and a console script for every command."""

import importlib
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("train", "sample", "forecast", "compare", "bench", "warmup")
#: The module whose cli each console script runs: rnnlab.commands.<name>, except the benchmark.
MODULES = {"bench": "rnnlab.bench.cli"}


@pytest.fixture(scope="module")
def setup_kwargs():
    """What setup.py passes to setuptools.setup (captured, nothing is built)."""
    captured = {}
    saved = setuptools.setup
    setuptools.setup = lambda **kwargs: captured.update(kwargs)
    try:
        runpy.run_path(str(ROOT / "setup.py"), run_name="__main__")
    finally:
        setuptools.setup = saved
    return captured


def test_every_command_has_a_console_script_running_its_cli(setup_kwargs):
    scripts = dict(line.replace(" ", "").split("=")
                   for line in setup_kwargs["entry_points"]["console_scripts"])
    assert scripts == {f"rnnlab-{name}": f"{MODULES.get(name, 'rnnlab.commands.' + name)}:cli"
                       for name in COMMANDS}
    for name in COMMANDS:
        module = importlib.import_module(MODULES.get(name, f"rnnlab.commands.{name}"))
        assert callable(module.cli) and "sys.exit(cli())" in Path(module.__file__).read_text()


def test_requirements_are_pinned_and_the_extras_exist(setup_kwargs):
    extras = setup_kwargs["extras_require"]
    assert set(extras) == {"gpu", "jax", "sweep", "dev", "bench", "mkl"}
    assert set(extras["jax"]) == {"jax==0.10.2", "jaxlib==0.10.2"}
    assert extras["mkl"] == ["mkl==2026.2.0"]
    assert {r.split("==")[0] for r in extras["bench"]} == {"torch"}
    assert {"jax[cuda12]==0.10.2", "jaxlib==0.10.2"} == set(extras["gpu"])
    assert {"joblib", "dask", "distributed"} <= {r.split("==")[0] for r in extras["sweep"]}
    assert set(extras["sweep"]) <= set(extras["dev"])
    assert {"pytest", "nbclient", "ipykernel"} <= {r.split("==")[0] for r in extras["dev"]}
    every = setup_kwargs["install_requires"] + [r for reqs in extras.values() for r in reqs]
    assert "pytensor==3.0.7" in setup_kwargs["install_requires"]
    assert all(r.count("==") == 1 for r in every), every


def test_the_console_entry_point_turns_errors_into_one_line(monkeypatch, capsys):
    from rnnlab import train

    monkeypatch.setattr(sys, "argv", ["rnnlab-train", "--config", "no/such.toml"])
    with pytest.raises(SystemExit) as info:
        train.cli()
    assert info.value.code == 2
    assert capsys.readouterr().err == "error: no/such.toml: config file not found\n"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_is_complete_with_examples(name):
    result = subprocess.run([sys.executable, "-m", f"rnnlab.{name}", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.returncode == 0 and result.stderr == ""
    text = result.stdout
    assert f"python -m rnnlab.{name}" in text and f"rnnlab-{name}" in text
    assert text.count(f"python -m rnnlab.{name} ") >= 3, "fewer than two examples"
    assert "--debug" in text and "exit code" in text.lower()


@pytest.mark.parametrize("name", ["reports.comparison", "training.sweep"])
def test_library_modules_run_as_commands_point_to_compare(name):
    result = subprocess.run([sys.executable, "-m", f"rnnlab.{name}", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.returncode == 1
    assert result.stderr.startswith(f"rnnlab.{name} is a library module, not a command: "
                                     "python -m rnnlab.compare")
