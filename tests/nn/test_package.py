"""rnnlab.nn as a library: importing it configures nothing, and it stands alone.

Lasagne never touched Theano's settings when imported; neither may ``rnnlab.nn`` touch
PyTensor's, Numba's, OpenMP's or a BLAS's.  And like Lasagne it must work without the rest of
rnnlab: it imports nothing from ``rnnlab`` outside ``rnnlab/nn/``, so a copy of the folder under
another name is a working library.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

NN = Path(__file__).resolve().parents[2] / "rnnlab" / "nn"


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RNNLAB_", "PYTENSOR_", "NUMBA_", "OMP_", "OPENBLAS_"))}
    env.update(extra)
    return env


def _run(code, env, cwd=None):
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_SNAPSHOT = """
import ctypes, json, os
import pytensor, pytensor.compile.debug.debugmode
import scipy.linalg.cython_blas          # SciPy's BLAS loaded first: its setting is compared too
from pytensor.compile import mode as m
from numba.np.ufunc import parallel
from threadpoolctl import threadpool_info

def snapshot():
    return {
        "env": {k: os.environ.get(k) for k in ("PYTENSOR_FLAGS", "NUMBA_CACHE_DIR",
                                               "NUMBA_NUM_THREADS", "OMP_NUM_THREADS")},
        "config": [str(pytensor.config.mode), pytensor.config.floatX,
                   str(pytensor.config.base_compiledir), pytensor.config.linker],
        "modes": {k: [id(v), type(getattr(v, "linker", v)).__name__]
                  for k, v in m.predefined_modes.items()},
        "linkers": {k: type(v).__name__ for k, v in m.predefined_linkers.items()},
        "numba_threads_started": bool(parallel._is_initialized),
        "omp_max_active_levels": ctypes.CDLL("libgomp.so.1").omp_get_max_active_levels(),
        "blas_threads": sorted((lib["filepath"], lib["num_threads"]) for lib in threadpool_info()),
    }

before = snapshot()
import rnnlab.nn as lasagne
after = snapshot()
l_in = lasagne.layers.InputLayer((None, 5, 3))
layer = lasagne.layers.LSTMLayer(l_in, 4)
print(json.dumps([before, after, str(layer.W_hid_to_cell.dtype)]))
"""


def test_importing_rnnlab_nn_changes_no_setting_of_pytensor_numba_openmp_or_blas(tmp_path):
    env = _clean_env(PYTENSOR_FLAGS=f"floatX=float64,base_compiledir={tmp_path / 'cache'}",
                     NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    before, after, dtype = _run(_SNAPSHOT, env)
    assert after == before
    assert before["config"][:2] == ["Mode", "float64"]   # PyTensor's default mode, the user's floatX
    assert dtype == "float64"                            # parameters follow the user's floatX
    assert not after["numba_threads_started"]


def _imports(path):
    """Module names imported by one file, relative imports resolved against its package."""
    package = ["rnnlab"] + list(path.relative_to(NN.parent).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                yield ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.module


def test_rnnlab_nn_imports_nothing_from_rnnlab_outside_it():
    files = sorted(NN.rglob("*.py"))
    assert len(files) > 20
    outside = {f"{path.relative_to(NN.parent)}: {name}" for path in files
               for name in _imports(path)
               if (name == "rnnlab" or name.startswith("rnnlab."))
               and not (name == "rnnlab.nn" or name.startswith("rnnlab.nn."))}
    assert not outside


_VENDORED = """
import json
import numpy as np
import pytensor, pytensor.tensor as T
import lasagne                                    # the copy, not rnnlab
import sys
assert not [m for m in sys.modules if m == "rnnlab" or m.startswith("rnnlab.")], "rnnlab imported"
lasagne.random.set_rng(np.random.RandomState(0))  # seeded: unseeded, 1 start in 6 stalls
tanh = lambda x: T.tanh(x)                        # no kernel for it: runs in scan, compiles fast
l_in = lasagne.layers.InputLayer((None, 6, 3))
l_rec = lasagne.layers.RecurrentLayer(l_in, 4, nonlinearity=tanh, only_return_final=True)
l_out = lasagne.layers.DenseLayer(l_rec, 2, nonlinearity=lasagne.nonlinearities.softmax)
targets = T.ivector("targets")
loss = lasagne.objectives.categorical_crossentropy(lasagne.layers.get_output(l_out), targets).mean()
params = lasagne.layers.get_all_params(l_out, trainable=True)
train = pytensor.function([l_in.input_var, targets], loss,
                          updates=lasagne.updates.sgd(loss, params, 0.5), mode="FAST_COMPILE")
x = np.random.default_rng(0).standard_normal((8, 6, 3)).astype(pytensor.config.floatX)
y = (x[:, :, 0].sum(axis=1) > 0).astype("int32")
losses = [float(train(x, y)) for _ in range(60)]
print(json.dumps([lasagne.__file__, losses[0], losses[-1]]))
"""


def test_a_copy_of_the_folder_under_another_name_is_a_working_library(tmp_path):
    shutil.copytree(NN, tmp_path / "lasagne", ignore=shutil.ignore_patterns("__pycache__"))
    env = _clean_env(PYTENSOR_FLAGS=f"base_compiledir={tmp_path / 'cache'}",
                     NUMBA_CACHE_DIR=str(tmp_path / "numba"), PYTHONPATH=str(tmp_path))
    where, first, last = _run(_VENDORED, env, cwd=tmp_path)
    assert Path(where).parent == tmp_path / "lasagne"
    assert last < 0.5 * first                          # it learns


_USER_FLAGS = """
import json
import numpy as np
import pytensor, pytensor.tensor as T
import rnnlab.nn as lasagne
l_in = lasagne.layers.InputLayer((None, 5, 3))
l_rec = lasagne.layers.LSTMLayer(l_in, 4, only_return_final=True)
l_out = lasagne.layers.DenseLayer(l_rec, 2, nonlinearity=lasagne.nonlinearities.softmax)
targets = T.ivector("targets")
loss = lasagne.objectives.categorical_crossentropy(lasagne.layers.get_output(l_out), targets).mean()
params = lasagne.layers.get_all_params(l_out, trainable=True)
train = pytensor.function([l_in.input_var, targets], loss,
                          updates=lasagne.updates.adam(loss, params))
value = train(np.zeros((2, 5, 3)), np.array([0, 1], "int32"))
print(json.dumps([str(pytensor.config.mode), type(train.maker.linker).__name__,
                  train.maker.linker.use_cloop, type(train.vm).__name__,
                  sorted({p.dtype for p in params}), str(value.dtype)]))
"""


def test_lasagne_style_code_compiles_with_the_users_pytensor_flags():
    cache = os.environ["RNNLAB_CACHE_DIR"]  # the suite's warm cache (conftest)
    env = _clean_env(PYTENSOR_FLAGS=f"linker=cvm,floatX=float64,base_compiledir={cache}")
    mode, linker, cloop, vm, dtypes, loss_dtype = _run(_USER_FLAGS, env)
    assert (mode, linker, cloop, vm) == ("Mode", "VMLinker", True, "CVM")   # PyTensor's C VM
    assert dtypes == ["float64"] and loss_dtype == "float64"
