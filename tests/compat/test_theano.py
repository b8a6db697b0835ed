"""rnnlab.compat.theano: Theano's names, and T.nnet with Theano's semantics, on PyTensor.

The values are checked against numpy, the shapes and the errors against Theano's documented
behaviour; a fresh process checks that importing the module configures nothing and adds nothing
to PyTensor's own modules.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import rnnlab.nn as lasagne
from rnnlab.compat import nnet, theano
from rnnlab.compat.theano import tensor as T

ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(18)


def _eval(expression, *inputs):
    """The value of ``expression`` of PyTensor variables given as ``(variable, value)`` pairs."""
    return theano.function([v for v, _ in inputs], expression)(*[x for _, x in inputs])


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# --- theano and theano.tensor: PyTensor's objects under Theano's names ----------------------

def test_the_theano_idioms_are_pytensors_objects():
    assert theano.config is pytensor.config
    assert theano.config.floatX == pytensor.config.floatX
    for name in ("shared", "function", "grad", "gradient", "printing", "In", "ifelse"):
        assert getattr(theano, name) is getattr(pytensor, name)
    assert theano.tensor is T
    for name in ("matrix", "ivector", "tensor3", "mean", "tanh", "dot", "arange", "switch",
                 "TensorVariable", "as_tensor_variable", "special"):
        assert getattr(T, name) is getattr(pt, name)
    assert T.nnet is nnet
    assert {"config", "shared", "function", "scan", "tensor"} <= set(dir(theano))
    assert {"nnet", "matrix", "grad"} <= set(dir(T))


def test_names_neither_has_raise_attribute_errors():
    for namespace, name in ((theano, "sandbox"), (T, "shared_randomstreams")):
        assert not hasattr(namespace, name)
        with pytest.raises(AttributeError, match=f"has no attribute '{name}'"):
            getattr(namespace, name)
    assert not hasattr(nnet, "conv2d")
    with pytest.raises(AttributeError, match="provides only sigmoid, hard_sigmoid"):
        nnet.conv2d


def test_scan_returns_theanos_pair_without_a_warning():
    x = T.vector("x")
    squares, updates = theano.scan(lambda v: v ** 2, sequences=[x])
    assert len(updates) == 0 and squares.ndim == 1
    steps = theano.shared(np.int64(0), name="steps")
    doubled, updates = theano.scan(lambda v: (2 * v, {steps: steps + 1}), sequences=[x])
    assert list(updates) == [steps]
    out = theano.function([x], doubled, updates=updates)(np.ones(3, dtype=x.dtype))
    assert out.tolist() == [2, 2, 2] and steps.get_value() == 3
    with pytest.raises(TypeError, match="return_updates"):
        theano.scan(lambda v: v, sequences=[x], return_updates=False)


def test_a_theano_era_program_runs_shared_function_and_scan():
    W = theano.shared(np.eye(2, dtype=theano.config.floatX), name="W")
    x = T.matrix("x")
    h, _ = theano.scan(lambda row, prev: T.tanh(T.dot(row, W) + prev), sequences=x,
                       outputs_info=T.zeros((2,), dtype=x.dtype))
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(h), T.arange(2)).mean()
    step = theano.function([x], cost, updates=[(W, W - 0.1 * theano.grad(cost, W))])
    values = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=theano.config.floatX)
    first, second = step(values), step(values)
    assert np.isfinite(first) and second < first


def test_the_nnet_functions_serve_as_lasagne_nonlinearities():
    l_in = lasagne.layers.InputLayer((None, 3))
    l_out = lasagne.layers.DenseLayer(l_in, 4, nonlinearity=T.nnet.softmax)
    x = T.matrix("x")
    out = _eval(lasagne.layers.get_output(l_out, x), (x, RNG.normal(size=(5, 3)).astype(x.dtype)))
    assert out.shape == (5, 4) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


# --- T.nnet: values against numpy, shapes -----------------------------------------------------

@pytest.mark.parametrize("name, reference", [
    ("sigmoid", _np_sigmoid),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("hard_sigmoid", lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    ("relu", lambda x: np.maximum(x, 0)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_functions_match_numpy_and_keep_shape_and_dtype(name, reference, dtype):
    x = pt.tensor3("x", dtype=dtype)
    values = RNG.normal(scale=4, size=(2, 3, 5)).astype(dtype)
    expression = getattr(T.nnet, name)(x)
    got = _eval(expression, (x, values))
    assert expression.dtype == dtype and got.shape == values.shape
    np.testing.assert_allclose(got, reference(values.astype("float64")),
                               rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_integer_inputs_give_floatx():
    x = pt.ivector("x")
    assert T.nnet.hard_sigmoid(x).dtype == theano.config.floatX
    assert T.nnet.relu(x).dtype == theano.config.floatX


def test_leaky_relu_with_a_number_or_a_tensor_alpha():
    x, alpha = T.vector("x"), T.scalar("alpha")
    values = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=x.dtype)
    expected = np.where(values > 0, values, 0.1 * values)
    np.testing.assert_allclose(_eval(T.nnet.relu(x, 0.1), (x, values)), expected, rtol=1e-6)
    np.testing.assert_allclose(
        _eval(T.nnet.relu(x, alpha), (x, values), (alpha, np.asarray(0.1, alpha.dtype))),
        expected, rtol=1e-6)


def _theano_ultra_fast_sigmoid(value):
    """Theano's scalar definition (its ``UltraFastScalarSigmoid``), one value at a time."""
    a = abs(value) / 2
    tanh = 1.5 * a / (1 + a) if a < 1.7 else (
        0.935409070603099 + 0.0458812946797165 * (a - 1.7) if a < 3 else 0.99505475368673)
    return 0.5 * (np.sign(value) * tanh + 1)


def test_ultra_fast_sigmoid_is_theanos_approximation():
    x = T.vector("x", dtype="float64")
    values = np.concatenate([np.linspace(-10, 10, 401), [-6.0, -3.4, 0.0, 3.4, 6.0]])
    got = _eval(T.nnet.ultra_fast_sigmoid(x), (x, values))
    np.testing.assert_allclose(got, [_theano_ultra_fast_sigmoid(v) for v in values], rtol=1e-12)
    assert np.max(np.abs(got - _np_sigmoid(values))) < 0.03
    slope = _eval(pytensor.grad(T.nnet.ultra_fast_sigmoid(x).sum(), x), (x, values))
    np.testing.assert_allclose(slope, got * (1 - got), rtol=1e-12)   # Theano's y * (1 - y)


def test_softmax_normalizes_rows_like_theano():
    c = T.matrix("c")
    values = RNG.normal(size=(4, 6)).astype(c.dtype)
    got = _eval(T.nnet.softmax(c), (c, values))
    expected = np.exp(values) / np.exp(values).sum(axis=1, keepdims=True)
    assert got.shape == (4, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    v = T.vector("v")
    row = _eval(T.nnet.softmax(v), (v, values[0]))
    assert row.shape == (1, 6)                       # Theano made a vector one row
    np.testing.assert_allclose(row, expected[:1], rtol=1e-5)
    with pytest.raises(ValueError, match="1-d or 2-d"):
        T.nnet.softmax(T.tensor3())


def test_categorical_crossentropy_with_class_indices_or_distributions():
    p, y, t = T.matrix("p"), T.ivector("y"), T.matrix("t")
    logits = RNG.normal(size=(5, 4))
    probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(p.dtype)
    classes = np.array([0, 3, 1, 1, 2], dtype="int32")
    one_hot = np.eye(4, dtype=p.dtype)[classes]
    expected = -np.log(probs.astype("float64")[np.arange(5), classes])
    by_index = _eval(T.nnet.categorical_crossentropy(p, y), (p, probs), (y, classes))
    by_one_hot = _eval(T.nnet.categorical_crossentropy(p, t), (p, probs), (t, one_hot))
    assert by_index.shape == by_one_hot.shape == (5,)
    np.testing.assert_allclose(by_index, expected, rtol=1e-5)
    np.testing.assert_allclose(by_one_hot, expected, rtol=1e-5)
    soft = np.full((5, 4), 0.25, dtype=p.dtype)
    np.testing.assert_allclose(
        _eval(T.nnet.categorical_crossentropy(p, t), (p, probs), (t, soft)),
        -(soft * np.log(probs)).sum(axis=1), rtol=1e-5)


def test_categorical_crossentropy_over_a_sequence_of_distributions():
    p, t = T.tensor3("p"), T.tensor3("t")
    probs = np.full((2, 3, 4), 0.25, dtype=p.dtype)
    got = _eval(T.nnet.categorical_crossentropy(p, t), (p, probs), (t, np.eye(4, dtype=t.dtype)[
        np.zeros((2, 3), dtype=int)]))
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got, np.log(4), rtol=1e-6)


def test_categorical_crossentropy_rejects_what_theano_rejected():
    with pytest.raises(TypeError, match="rank mismatch"):
        T.nnet.categorical_crossentropy(T.matrix(), T.tensor3())
    with pytest.raises(TypeError, match="integers"):
        T.nnet.categorical_crossentropy(T.matrix(), T.vector())
    with pytest.raises(TypeError, match="matrix of probabilities"):
        T.nnet.categorical_crossentropy(T.tensor3(), T.imatrix())


def test_the_gradient_of_the_crossentropy_of_a_softmax_is_p_minus_y():
    c, y = T.matrix("c"), T.ivector("y")
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(c), y).sum()
    logits = RNG.normal(size=(3, 5)).astype(c.dtype)
    classes = np.array([4, 0, 2], dtype="int32")
    grad = _eval(theano.grad(loss, c), (c, logits), (y, classes))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, probs - np.eye(5)[classes], rtol=1e-4, atol=1e-6)


def test_binary_crossentropy_matches_numpy_and_broadcasts():
    o, t = T.matrix("o"), T.vector("t")
    out = RNG.uniform(0.05, 0.95, size=(3, 4)).astype(o.dtype)
    target = np.array([0.0, 1.0, 1.0, 0.5], dtype=t.dtype)
    got = _eval(T.nnet.binary_crossentropy(o, t), (o, out), (t, target))
    expected = -(target * np.log(out) + (1 - target) * np.log(1 - out))
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_hard_sigmoid_has_theanos_gradient():
    x = T.vector("x")
    values = np.array([-4.0, -1.0, 0.0, 1.0, 4.0], dtype=x.dtype)
    grad = _eval(theano.grad(T.nnet.hard_sigmoid(x).sum(), x), (x, values))
    np.testing.assert_allclose(grad, [0, 0.2, 0.2, 0.2, 0], rtol=1e-6)


# --- importing it touches nothing; nothing in rnnlab imports it -------------------------------

_SNAPSHOT = """
import json, os, sys
import pytensor, pytensor.tensor

def snapshot():
    return {"config": str(pytensor.config), "flags": os.environ.get("PYTENSOR_FLAGS"),
            "pytensor": sorted(vars(pytensor)), "tensor": sorted(vars(pytensor.tensor)),
            "nnet": hasattr(pytensor.tensor, "nnet")}

before = snapshot()
from rnnlab.compat import theano
from rnnlab.compat.theano import tensor as T
T.nnet.softmax(T.matrix()), theano.tensor.nnet.sigmoid(T.vector())
after = snapshot()
print(json.dumps({"same": before == after, "nnet": after["nnet"],
                  "new": sorted(set(after["tensor"]) - set(before["tensor"]))}))
"""


def test_importing_it_changes_no_pytensor_config_and_adds_nothing_to_pytensor():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTENSOR_", "RNNLAB_"))}
    env.update(PYTHONPATH=str(ROOT), PYTENSOR_FLAGS="floatX=float32,mode=FAST_COMPILE,cxx=")
    done = subprocess.run([sys.executable, "-c", _SNAPSHOT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"same": True, "nnet": False, "new": []}


def test_nothing_outside_the_compat_package_imports_it():
    importers = []
    for path in (ROOT / "rnnlab").rglob("*.py"):
        if "compat" in path.relative_to(ROOT / "rnnlab").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            importers += [str(path) for name in names if name.startswith("rnnlab.compat")]
    assert not importers
