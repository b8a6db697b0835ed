"""Test-wide settings: applied before anything imports PyTensor.

Unit tests compile in FAST_COMPILE (seconds instead of minutes per scan graph); tests marked
``slow`` opt into the optimising backends themselves.  The compile cache lives in the project's
ignored ``.cache/`` so repeated runs are warm.
"""

import os
from pathlib import Path

os.environ.setdefault("RNNLAB_MODE", "FAST_COMPILE")
os.environ.setdefault("RNNLAB_CACHE_DIR", str(Path(__file__).parent / ".cache" / "pytensor"))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from rnnlab import backend  # noqa: E402

backend.configure()

from rnnlab.nn.ops import OPTIONAL_MODULES  # noqa: E402

import importlib.util  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


#: JAX is an optional test dependency (pip install -r requirements-jax.txt): without it the module
#: of the ops' JAX translations cannot even be imported for its docstring examples.
collect_ignore = [module.replace(".", "/") + ".py"
                  for module, dependency in OPTIONAL_MODULES.items()
                  if importlib.util.find_spec(dependency) is None]


@pytest.fixture(autouse=True)
def _restore_layer_rng():
    """Tests may call rnnlab.nn.random.set_rng; put the generator back so order cannot matter."""
    module = sys.modules.get("rnnlab.nn.random")
    saved = module.get_rng() if module else None
    yield
    if module:
        module.set_rng(saved)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np


@pytest.fixture
def float64():
    """Run a test with floatX=float64 (gradient checks)."""
    import pytensor

    with pytensor.config.change_flags(floatX="float64"):
        yield


@pytest.fixture
def command(capsys):
    """Run a command's ``main`` as ``python -m`` would; return (exit code, stdout, stderr)."""
    from rnnlab.commands.cli import run_command

    def run(main, argv):
        try:
            code = run_command(main, [str(a) for a in argv])
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err
    return run
