"""rnnlab.backend: the one explicit configuration call; importing rnnlab configures nothing."""

import json
import subprocess
import sys

import pytest

from rnnlab import backend
from rnnlab.errors import BackendError


def _run(code, **env):
    """Run ``code`` in a fresh interpreter (PyTensor not yet imported) and return its JSON line."""
    full_env = {k: v for k, v in __import__("os").environ.items()
                if not k.startswith(("RNNLAB_", "PYTENSOR_"))}
    full_env.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_settings_reach_pytensor_and_survive_importing_rnnlab_nn(tmp_path):
    code = ("import json, sys; from rnnlab import backend; "
            "backend.configure(mode='CVM', floatX='float64', cache_dir=%r); "
            "imported = sorted(m for m in sys.modules if m.startswith('rnnlab.')); "
            "import rnnlab.nn, pytensor; from pytensor.compile.mode import get_mode; "
            "linkers = [type(get_mode('NUMBA').linker).__name__]; rnnlab.nn.ops.prepare(); "
            "linkers.append(type(get_mode('NUMBA').linker).__name__); "
            "print(json.dumps([str(pytensor.config.mode), pytensor.config.floatX, "
            "str(pytensor.config.base_compiledir), linkers, imported]))"
            % str(tmp_path / "cache"))
    mode, floatX, cache, linkers, imported = _run(code)
    assert (mode, floatX, cache) == ("CVM", "float64", str(tmp_path / "cache"))
    assert imported == ["rnnlab.backend", "rnnlab.errors"]     # configure imports no library
    # configure() sets PyTensor's flags only; rnnlab.nn.ops.prepare() installs rnnlab's NUMBA
    # linker (one compile per graph).
    assert linkers == ["NumbaLinker", "ContiguousNumbaLinker"]


def test_environment_variables_choose_the_settings(tmp_path):
    code = ("import json; from rnnlab import backend; backend.configure(); "
            "import rnnlab.nn, pytensor; "
            "print(json.dumps([str(pytensor.config.mode), str(pytensor.config.base_compiledir)]))")
    mode, cache = _run(code, RNNLAB_MODE="fast_compile", RNNLAB_CACHE_DIR=str(tmp_path / "c"))
    assert (mode, cache) == ("FAST_COMPILE", str(tmp_path / "c"))


def test_default_mode_is_the_measured_choice(tmp_path):
    code = ("import json; from rnnlab import backend; backend.configure(); import pytensor; "
            "print(json.dumps(str(pytensor.config.mode)))")
    assert _run(code, RNNLAB_CACHE_DIR=str(tmp_path)) == backend.DEFAULT_MODE


@pytest.mark.parametrize("kwargs, words", [
    ({"mode": "TURBO"}, ["mode 'TURBO'", "FAST_COMPILE, CVM, NUMBA, JAX"]),
    ({"device": "tpu"}, ["device 'tpu'", "cpu, gpu"]),
    ({"floatX": "float16"}, ["floatX 'float16'", "float32, float64"]),
    ({"device": "gpu", "mode": "CVM"}, ["JAX"]),
])
def test_bad_settings_raise_one_line_errors(kwargs, words):
    with pytest.raises(BackendError) as err:
        backend.configure(**kwargs)
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words)


def test_gpu_without_a_usable_gpu_is_an_error_not_a_silent_cpu_run():
    # This machine has no GPU (and usually no JAX): asking for one must fail loudly.
    code = ("from rnnlab import backend\n"
            "try:\n    backend.configure(device='gpu')\n"
            "except backend.BackendError as e:\n    import json; print(json.dumps(str(e)))\n")
    message = _run(code)
    assert "gpu" in message and "\n" not in message


@pytest.mark.parametrize("module", ["rnnlab.nn", "rnnlab.model.networks", "rnnlab.model.compile",
                                    "rnnlab.reports.gradients", "rnnlab.training.session",
                                    "rnnlab.tasks", "rnnlab.run"])
def test_importing_a_module_configures_nothing(tmp_path, module):
    """Only the explicit call configures: imported alone, PyTensor keeps its own settings."""
    code = (f"import json, {module}, pytensor; "
            "print(json.dumps([str(pytensor.config.base_compiledir), str(pytensor.config.mode)]))")
    cache, mode = _run(code, RNNLAB_CACHE_DIR=str(tmp_path), RNNLAB_MODE="CVM")
    assert cache != str(tmp_path) and mode == "Mode"


def test_cache_dir_cannot_change_after_pytensor_is_imported(tmp_path):
    import rnnlab.nn  # noqa: F401  (imports PyTensor with the test session's settings)

    with pytest.raises(BackendError, match="before PyTensor is imported"):
        backend.configure(cache_dir=tmp_path / "elsewhere")


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_cache_folder_that_cannot_be_made_is_one_line(tmp_path, below):
    taken = tmp_path / "file"
    taken.write_text("not a folder")
    with pytest.raises(BackendError, match=r"file.*: cannot use as the compile cache folder \("
                                           r"(it is a file|Not a directory)\); expected a "
                                           r"writable directory \(RNNLAB_CACHE_DIR\)$"):
        backend.configure(cache_dir=taken / below)


def test_the_jax_mode_without_jax_is_one_line(monkeypatch):
    real = backend.importlib.util.find_spec
    monkeypatch.setattr(backend.importlib.util, "find_spec",
                        lambda name, *args: None if name == "jax" else real(name, *args))
    with pytest.raises(BackendError, match=r"^mode 'JAX' needs JAX \(pip install -r "
                                           r"requirements-jax.txt\); it is not installed$"):
        backend.configure(mode="JAX")
