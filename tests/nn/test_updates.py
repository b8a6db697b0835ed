"""Tests for rnnlab.nn.updates: formulas against numpy, named state, exact resume, dtypes.

The problem is a small least-squares fit, ``loss = 0.5 * sum((X @ W + b - Y) ** 2)``, whose
gradient numpy computes exactly.  Each compiled function is built once per test.
"""

from collections import OrderedDict, defaultdict

import json
import os
import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import updates as U
from rnnlab.nn.utils import compute_norms, create_param, floatX

_RNG = np.random.RandomState(0)
X = _RNG.randn(5, 3)
Y = _RNG.randn(5, 2)
W0 = _RNG.randn(3, 2) * 0.5
B0 = _RNG.randn(2) * 0.5


def make_params(dtype=None, prefix="dense"):
    dtype = dtype or pytensor.config.floatX
    return [pytensor.shared(W0.astype(dtype), name=f"{prefix}.W"),
            pytensor.shared(B0.astype(dtype), name=f"{prefix}.b")]


def loss_of(params):
    W, b = params
    residual = pt.as_tensor(X.astype(W.dtype)) @ W + b - Y.astype(W.dtype)
    return 0.5 * pt.sum(residual ** 2)


def numpy_grads(params):
    W, b = params
    residual = X @ W + b - Y
    return [X.T @ residual, residual.sum(0)]


# --- numpy references: one step for one parameter; `s` holds its state by slot name ----------

def ref_sgd(p, g, s, t, lr):
    return p - lr * g


def ref_momentum(p, g, s, t, lr, mom):
    s["velocity"] = mom * s["velocity"] - lr * g
    return p + s["velocity"]


def ref_nesterov(p, g, s, t, lr, mom):
    s["velocity"] = mom * s["velocity"] - lr * g
    return p + mom * s["velocity"] - lr * g


def ref_adagrad(p, g, s, t, lr, eps=1e-6):
    s["accu"] = s["accu"] + g ** 2
    return p - lr * g / np.sqrt(s["accu"] + eps)


def ref_rmsprop(p, g, s, t, lr, rho, eps=1e-6):
    s["accu"] = rho * s["accu"] + (1 - rho) * g ** 2
    return p - lr * g / np.sqrt(s["accu"] + eps)


def ref_adadelta(p, g, s, t, lr, rho=0.95, eps=1e-6):
    s["accu"] = rho * s["accu"] + (1 - rho) * g ** 2
    step = g * np.sqrt(s["delta_accu"] + eps) / np.sqrt(s["accu"] + eps)
    s["delta_accu"] = rho * s["delta_accu"] + (1 - rho) * step ** 2
    return p - lr * step


def ref_adam(p, g, s, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g ** 2
    a_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return p - a_t * s["m"] / (np.sqrt(s["v"]) + eps)


def ref_adamax(p, g, s, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["u"] = np.maximum(b2 * s["u"], np.abs(g))
    return p - lr / (1 - b1 ** t) * s["m"] / (s["u"] + eps)


def ref_amsgrad(p, g, s, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g ** 2
    s["v_hat"] = np.maximum(s["v_hat"], s["v"])
    a_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return p - a_t * s["m"] / (np.sqrt(s["v_hat"]) + eps)


# name, build(loss, params), reference, reference hyperparameters, optimizer tag in state names
CASES = [
    ("sgd", lambda l, p: U.sgd(l, p, 0.05), ref_sgd, dict(lr=0.05), None),
    ("momentum", lambda l, p: U.momentum(l, p, 0.05, momentum=0.8), ref_momentum,
     dict(lr=0.05, mom=0.8), "momentum"),
    ("nesterov_momentum", lambda l, p: U.nesterov_momentum(l, p, 0.05, momentum=0.8),
     ref_nesterov, dict(lr=0.05, mom=0.8), "nesterov_momentum"),
    ("adagrad", lambda l, p: U.adagrad(l, p, learning_rate=0.3), ref_adagrad, dict(lr=0.3),
     "adagrad"),
    ("rmsprop", lambda l, p: U.rmsprop(l, p, learning_rate=0.01, rho=0.8), ref_rmsprop,
     dict(lr=0.01, rho=0.8), "rmsprop"),
    # learning_rate != 1 pins Lasagne's choice: delta_accu accumulates the unscaled step.
    ("adadelta", lambda l, p: U.adadelta(l, p, learning_rate=0.5), ref_adadelta, dict(lr=0.5),
     "adadelta"),
    ("adam", lambda l, p: U.adam(l, p, learning_rate=0.1), ref_adam, dict(lr=0.1), "adam"),
    ("adamax", lambda l, p: U.adamax(l, p, learning_rate=0.1, beta2=0.5), ref_adamax,
     dict(lr=0.1, b2=0.5), "adamax"),
    ("amsgrad", lambda l, p: U.amsgrad(l, p, learning_rate=0.1, beta2=0.5), ref_amsgrad,
     dict(lr=0.1, b2=0.5), "amsgrad"),
]


def run_reference(reference, hyper, steps):
    params = [W0.copy(), B0.copy()]
    states = [defaultdict(lambda shape=p.shape: np.zeros(shape)) for p in params]
    for t in range(1, steps + 1):
        grads = numpy_grads(params)
        params = [reference(p, g, s, t, **hyper) for p, g, s in zip(params, grads, states)]
    return params, states


@pytest.mark.parametrize("name, build, reference, hyper, tag", CASES, ids=[c[0] for c in CASES])
def test_three_steps_match_numpy_formula_and_named_state(float64, name, build, reference, hyper,
                                                         tag):
    params = make_params()
    updates = build(loss_of(params), params)
    assert isinstance(updates, OrderedDict)
    step = pytensor.function([], [], updates=updates)
    for _ in range(3):
        step()
    expected, states = run_reference(reference, hyper, 3)
    for param, want in zip(params, expected):
        np.testing.assert_allclose(param.get_value(), want, rtol=1e-10, atol=1e-12)
    # The named state holds exactly what its name says.
    values = U.get_state_values(updates)
    expected_names = []
    for param, state in zip(params, states):
        for slot, want in state.items():
            key = f"{param.name}.{tag}.{slot}"
            expected_names.append(key)
            np.testing.assert_allclose(values[key], want, rtol=1e-10, atol=1e-12)
    if name in ("adam", "adamax", "amsgrad"):
        expected_names.append(f"{tag}.t")
        assert values[f"{tag}.t"] == 3 and values[f"{tag}.t"].dtype == pytensor.config.floatX
    assert sorted(values) == sorted(expected_names)
    if name == "amsgrad":  # the running maximum was active, so this is not just adam
        assert any(np.any(s["v_hat"] > s["v"]) for s in states)


RESUME_CASES = {
    "adam": lambda l, p: U.adam(l, p, learning_rate=0.05),
    "amsgrad": lambda l, p: U.amsgrad(l, p, learning_rate=0.05, beta2=0.5),
    "nesterov_rmsprop": lambda l, p: U.apply_nesterov_momentum(
        U.rmsprop(l, p, learning_rate=0.01), momentum=0.5),
}


@pytest.mark.parametrize("name", list(RESUME_CASES))
def test_resume_from_saved_params_and_state_is_bitwise_identical(name):
    def build():
        params = make_params()
        updates = RESUME_CASES[name](loss_of(params), params)
        return params, updates, pytensor.function([], [], updates=updates)

    params, updates, step = build()
    for _ in range(4):
        step()
    saved_params = {p.name: p.get_value() for p in params}
    saved_state = U.get_state_values(updates)
    for _ in range(3):
        step()
    uninterrupted = [p.get_value() for p in params]

    fresh_params, fresh_updates, fresh_step = build()
    assert not np.array_equal(fresh_params[0].get_value(), saved_params["dense.W"])
    for p in fresh_params:
        p.set_value(saved_params[p.name])
    U.set_state_values(fresh_updates, saved_state)
    for _ in range(3):
        fresh_step()
    for want, got in zip(uninterrupted, fresh_params):
        assert got.get_value().dtype == want.dtype
        assert np.array_equal(got.get_value(), want)
    for key, value in U.get_state_values(updates).items():
        assert np.array_equal(U.get_state_values(fresh_updates)[key], value)

    # Control: restoring the parameters but not the state gives a different trajectory.
    for p in fresh_params:
        p.set_value(saved_params[p.name])
    U.set_state_values(fresh_updates, {k: np.zeros_like(v) for k, v in saved_state.items()})
    for _ in range(3):
        fresh_step()
    assert not np.array_equal(fresh_params[0].get_value(), uninterrupted[0])


def test_state_names_are_deterministic_unique_and_match_variable_names():
    def names():
        params = make_params()
        return list(U.adam(loss_of(params), params).state)

    assert names() == ["dense.W.adam.m", "dense.W.adam.v", "dense.b.adam.m", "dense.b.adam.v",
                       "adam.t"]
    assert names() == names()
    params = make_params()
    state = U.amsgrad(loss_of(params), params).state
    assert all(var.name == key for key, var in state.items())
    assert len({id(var) for var in state.values()}) == len(state) == 7


def test_unnamed_and_same_named_params_get_index_labels():
    unnamed = pytensor.shared(np.zeros(2))
    w1, w2 = pytensor.shared(np.zeros(2), name="W"), pytensor.shared(np.zeros(2), name="W")
    grads = [pt.ones(2)] * 3
    state = U.adagrad(grads, [unnamed, w1, w2]).state
    assert list(state) == ["param0.adagrad.accu", "W#1.adagrad.accu", "W#2.adagrad.accu"]


def test_apply_momentum_merges_state_and_skips_state_keys():
    params = make_params()
    adam_updates = U.adam(loss_of(params), params)
    updates = U.apply_momentum(adam_updates, momentum=0.5)
    assert list(updates.state) == list(adam_updates.state) + [
        "dense.W.momentum.velocity", "dense.b.momentum.velocity"]
    assert all(updates.state[k] is v for k, v in adam_updates.state.items())
    assert set(updates) == set(adam_updates) | {updates.state["dense.W.momentum.velocity"],
                                                updates.state["dense.b.momentum.velocity"]}
    # The input dict is left alone; applying momentum twice gets suffixed, still unique names.
    assert len(adam_updates) == 7 and len(adam_updates.state) == 5
    twice = U.apply_momentum(updates, params)
    assert list(twice.state)[-2:] == ["dense.W.momentum.velocity_2",
                                      "dense.b.momentum.velocity_2"]
    # A plain OrderedDict (Lasagne style) works too and gains a state.
    plain = OrderedDict((p, p - 0.1) for p in params)
    assert list(U.apply_nesterov_momentum(plain).state) == [
        "dense.W.nesterov_momentum.velocity", "dense.b.nesterov_momentum.velocity"]


def test_shared_hyperparameters_change_steps_without_recompiling(float64):
    lr, mom = pytensor.shared(0.1, name="lr"), pytensor.shared(0.9, name="mom")
    params = make_params()
    step = pytensor.function([], [], updates=U.momentum(loss_of(params), params, lr, mom))
    want = [W0.copy(), B0.copy()]
    states = [defaultdict(lambda shape=p.shape: np.zeros(shape)) for p in want]
    for t, (lr_value, mom_value) in enumerate([(0.1, 0.9), (0.01, 0.5), (0.2, 0.0)], start=1):
        lr.set_value(lr_value)
        mom.set_value(mom_value)
        step()
        grads = numpy_grads(want)
        want = [ref_momentum(p, g, s, t, lr_value, mom_value)
                for p, g, s in zip(want, grads, states)]
        for param, expected in zip(params, want):
            np.testing.assert_allclose(param.get_value(), expected, rtol=1e-12)


def test_symbolic_learning_rate_input(float64):
    lr = pt.scalar("lr")
    params = make_params()
    step = pytensor.function([lr], [], updates=U.adam(loss_of(params), params, learning_rate=lr))
    want, states = [W0.copy(), B0.copy()], [defaultdict(lambda: 0.0), defaultdict(lambda: 0.0)]
    for t, lr_value in enumerate([0.1, 0.001, 0.05], start=1):
        step(lr_value)
        grads = numpy_grads(want)
        want = [ref_adam(p, g, s, t, lr_value) for p, g, s in zip(want, grads, states)]
    for param, expected in zip(params, want):
        np.testing.assert_allclose(param.get_value(), expected, rtol=1e-10)


def test_norm_constraint_and_total_norm_constraint_match_numpy():
    rng = np.random.RandomState(1)
    dense, conv, vector = (floatX(rng.randn(*s) * 3) for s in [(4, 5), (3, 2, 4), (6,)])
    small = floatX(rng.randn(2, 2) * 0.01)
    max_norm = 2.0
    outputs = [U.norm_constraint(pt.as_tensor(dense), max_norm),
               U.norm_constraint(pt.as_tensor(conv), max_norm),
               U.norm_constraint(pt.as_tensor(vector), max_norm),
               U.norm_constraint(pt.as_tensor(dense), max_norm, norm_axes=(1,))]
    scaled, norm = U.total_norm_constraint([pt.as_tensor(dense), pt.as_tensor(vector)], max_norm,
                                           return_norm=True)
    unchanged = U.total_norm_constraint([pt.as_tensor(small)], max_norm)
    values = pytensor.function([], outputs + scaled + [norm] + unchanged)()

    def expected_norm_constraint(a, axes):
        norms = np.sqrt(np.sum(a.astype(np.float64) ** 2, axis=axes, keepdims=True))
        return a * np.minimum(norms, max_norm) / (1e-7 + norms)

    for got, (a, axes) in zip(values[:4], [(dense, (0,)), (conv, (1, 2)), (vector, (0,)),
                                           (dense, (1,))]):
        assert got.dtype == a.dtype and got.shape == a.shape
        np.testing.assert_allclose(got, expected_norm_constraint(a, axes), rtol=1e-5)
    np.testing.assert_allclose(compute_norms(values[0]).max(), max_norm, rtol=1e-5)
    assert compute_norms(dense).min() > max_norm  # so every column was rescaled
    total = np.sqrt(np.sum(dense.astype(np.float64) ** 2) + np.sum(vector.astype(np.float64) ** 2))
    np.testing.assert_allclose(values[6], total, rtol=1e-5)
    for got, a in zip(values[4:6], [dense, vector]):
        np.testing.assert_allclose(got, a * max_norm / total, rtol=1e-5)
    np.testing.assert_allclose(values[7], small, rtol=1e-5)


def test_norm_constraint_rejects_unknown_dimensionality():
    with pytest.raises(ValueError, match="norm_axes"):
        U.norm_constraint(pt.tensor(shape=(2,) * 6), 1.0)
    with pytest.raises(ValueError, match="tensor_vars is empty"):
        U.total_norm_constraint([], 1.0)


def test_float32_params_stay_float32_with_float64_hyperparameters():
    lr64 = pytensor.shared(np.float64(0.01), name="lr")
    mom64 = pytensor.shared(np.float64(0.5), name="mom")
    beta64 = pytensor.shared(np.float64(0.9), name="beta1")
    builders = {
        "sgd": lambda l, p: U.sgd(l, p, lr64),
        "momentum": lambda l, p: U.momentum(l, p, lr64, mom64),
        "nesterov_momentum": lambda l, p: U.nesterov_momentum(l, p, lr64, mom64),
        "adagrad": lambda l, p: U.adagrad(l, p, lr64),
        "rmsprop": lambda l, p: U.rmsprop(l, p, lr64, rho=beta64),
        "adadelta": lambda l, p: U.adadelta(l, p, lr64, rho=beta64),
        "adam": lambda l, p: U.adam(l, p, lr64, beta1=beta64),
        "adamax": lambda l, p: U.adamax(l, p, lr64, beta1=beta64),
        "amsgrad": lambda l, p: U.amsgrad(l, p, lr64, beta1=beta64),
    }
    all_updates, all_params = OrderedDict(), []
    for name, build in builders.items():
        params = make_params("float32", prefix=name)
        row = create_param(np.ones((1, 3), "float32"), (1, 3), name=f"{name}.row")
        loss = loss_of(params) + pt.sum(row ** 2)
        updates = build(loss, params + [row])
        for variable, update in updates.items():
            assert update.dtype == variable.dtype, (name, variable.name, update.dtype)
        all_updates.update(updates)
        all_params += params + [row]
    step = pytensor.function([], [], updates=all_updates)
    before = [p.get_value() for p in all_params]
    step()
    step()
    for param, old in zip(all_params, before):
        value = param.get_value()
        assert value.dtype == np.float32, param.name
        assert np.all(np.isfinite(value)) and not np.array_equal(value, old), param.name


def test_get_and_set_state_values_check_names_shapes_and_dtypes():
    params = make_params()
    updates = U.adam(loss_of(params), params)
    values = U.get_state_values(updates)
    values["dense.W.adam.m"][:] = 7  # a copy: the optimizer's state is untouched
    assert not np.any(updates.state["dense.W.adam.m"].get_value())
    good = {k: np.full_like(v, 2) for k, v in values.items()}
    bad_cases = [
        ({k: v for k, v in good.items() if k != "dense.b.adam.v"}, "'dense.b.adam.v' is missing"),
        (dict(good, extra=np.zeros(1)), "unexpected key 'extra'"),
        (dict(good, **{"dense.W.adam.v": np.zeros((2, 3), pytensor.config.floatX)}),
         r"'dense.W.adam.v' given shape \(2, 3\)"),
        (dict(good, **{"adam.t": np.zeros(1, np.int32)}), r"'adam.t' given shape \(1,\)"),
        (dict(good, **{"adam.t": np.float16(2)}), "'adam.t' given shape .* dtype float16"),
    ]
    for values_given, message in bad_cases:
        with pytest.raises(ValueError, match=message):
            U.set_state_values(updates, values_given)
    assert not np.any(updates.state["dense.b.adam.m"].get_value())  # nothing set on failure
    U.set_state_values(updates, good)
    assert all(np.all(v == 2) for v in U.get_state_values(updates).values())
    with pytest.raises(TypeError, match="no optimizer state"):
        U.get_state_values(OrderedDict())


def test_get_or_compute_grads_and_argument_checks():
    w = pytensor.shared(np.zeros(3), name="w")
    with pytest.raises(ValueError, match="shared variable"):
        U.get_or_compute_grads(pt.sum(w), [w, pt.vector("x")])
    with pytest.raises(ValueError, match="2 gradients for 1 params"):
        U.sgd([pt.ones(3), pt.ones(3)], [w], 0.1)
    given = [pt.ones(3)]
    assert U.get_or_compute_grads(given, [w]) == given
    with pytest.raises(TypeError, match="learning_rate"):
        U.adam(pt.sum(w), [w], learning_rate="0.1")
    with pytest.raises(ValueError, match="learning_rate"):
        U.sgd(pt.sum(w), [w], learning_rate=pt.vector())
    step = U.sgd([pt.ones(3)], [w], learning_rate=floatX(0.5))  # 0-d arrays are numbers too
    np.testing.assert_allclose(step[w].eval(), -0.5)
    other = pytensor.shared(np.zeros(3), name="other")
    with pytest.raises(ValueError, match="has no update"):
        U.apply_momentum(U.sgd(pt.sum(w), [w], 0.1), [other])



def test_a_step_counter_saved_as_an_integer_restores_the_float_counter():
    params = make_params()
    updates = U.adam(loss_of(params), params)
    values = U.get_state_values(updates)
    assert values["adam.t"].dtype == pytensor.config.floatX   # a float, as in Lasagne
    U.set_state_values(updates, dict(values, **{"adam.t": np.int32(41)}))  # as rnnlab 0.1 saved
    assert updates.state["adam.t"].get_value() == 41
    assert updates.state["adam.t"].get_value().dtype == pytensor.config.floatX


#: Lasagne's own test problem for its update rules (lasagne/tests/test_updates.py), five steps
#: of every update rule in a fresh process: a failed LLVM link aborts the interpreter.
_ADAM_FAMILY = """
import json, sys
import pytensor
import rnnlab.nn as lasagne
from rnnlab import backend
mode, configured = sys.argv[1], sys.argv[2] == "configured"
if configured:
    backend.configure(mode=mode)
    lasagne.ops.prepare()
found = {}
for dtype in ("float32", "float64"):
    with pytensor.config.change_flags(floatX=dtype):
        for name in ("adam", "adamax", "amsgrad"):
            A = pytensor.shared(lasagne.utils.floatX([1, 1, 1]))
            B = pytensor.shared(lasagne.utils.floatX([1, 1, 1]))
            loss = ((A + 3) ** 2).sum() + ((B - 3) ** 2).sum()
            step = pytensor.function([], [], updates=getattr(lasagne.updates, name)(loss, [A, B]),
                                     mode=mode)
            for _ in range(5):
                step()
            found[f"{name} {dtype}"] = [A.get_value().tolist(), B.get_value().tolist(),
                                        str(A.dtype)]
        for name in ("sgd", "momentum", "nesterov_momentum", "adagrad", "rmsprop", "adadelta"):
            A = pytensor.shared(lasagne.utils.floatX([1, 1, 1]))
            loss = ((A + 3) ** 2).sum()
            rule = getattr(lasagne.updates, name)
            updates = rule(loss, [A], 0.01) if name in ("sgd", "momentum",
                                                          "nesterov_momentum") else rule(loss, [A])
            step = pytensor.function([], [], updates=updates, mode=mode)
            for _ in range(5):
                step()
            found[f"{name} {dtype}"] = A.get_value().tolist()
        # Any graph with x ** float(int n): importing rnnlab.nn lets LLVM link it, even on
        # PyTensor's own NUMBA linker ("plain").
        x, n = pytensor.tensor.scalar("x"), pytensor.tensor.iscalar("n")
        power = pytensor.function([x, n], x ** pytensor.tensor.cast(n, dtype), mode=mode)
        found[f"power {dtype}"] = float(power(1.5, 3))
print(json.dumps(found))
"""


def _adam_family_reference(name, dtype):
    """The five steps of each rule in numpy, with Lasagne's defaults (float64 arithmetic)."""
    lr = {"adamax": 0.002}.get(name, 0.001)
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8
    values = []
    for start, target in ((1.0, -3.0), (1.0, 3.0)):
        w, m, v, v_hat = start, 0.0, 0.0, 0.0
        for t in range(1, 6):
            g = 2 * (w - target)
            m = beta1 * m + (1 - beta1) * g
            if name == "adamax":
                v = max(beta2 * v, abs(g))
                w -= lr / (1 - beta1 ** t) * m / (v + epsilon)
                continue
            v = beta2 * v + (1 - beta2) * g * g
            v_hat = max(v_hat, v) if name == "amsgrad" else v
            w -= lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * m / (np.sqrt(v_hat) + epsilon)
        values.append([w] * 3)
    return values


@pytest.mark.parametrize("mode, configured", [
    ("CVM", "plain"),
    pytest.param("NUMBA", "plain", marks=pytest.mark.slow),
    pytest.param("NUMBA", "configured", marks=pytest.mark.slow)])
def test_no_update_rule_aborts_the_interpreter(mode, configured):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RNNLAB_", "PYTENSOR_"))}
    env["PYTENSOR_FLAGS"] = f"base_compiledir={os.environ['RNNLAB_CACHE_DIR']}"
    if configured == "configured":
        env["RNNLAB_CACHE_DIR"] = os.environ["RNNLAB_CACHE_DIR"]
    done = subprocess.run([sys.executable, "-c", _ADAM_FAMILY, mode, configured], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]   # an LLVM abort is returncode -6
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for dtype, rtol in (("float32", 1e-5), ("float64", 1e-12)):
        for name in ("adam", "adamax", "amsgrad"):
            a, b, got_dtype = found[f"{name} {dtype}"]
            assert got_dtype == dtype
            np.testing.assert_allclose([a, b], _adam_family_reference(name, dtype), rtol=rtol)
        for name in ("sgd", "momentum", "nesterov_momentum", "adagrad", "rmsprop", "adadelta"):
            values = np.array(found[f"{name} {dtype}"])           # every rule ran, and moved
            assert np.all(np.isfinite(values)) and np.all(values < 1), (name, dtype, values)
        assert found[f"power {dtype}"] == 3.375


def test_get_or_compute_grads_returns_the_list_it_was_given():
    params = make_params()
    grads = [pt.zeros_like(p) for p in params]
    assert U.get_or_compute_grads(grads, params) is grads           # as in Lasagne: no copy
    assert U.get_or_compute_grads(tuple(grads), params) == grads
