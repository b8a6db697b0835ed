"""The fused recurrences (rnnlab.nn.ops.recurrence): same values and gradients as the scan path.

The layer tests (test_recurrent*.py) run through the fused op by default, against the numpy
reference and finite differences; here the fused op is checked against ``scan`` itself for every
option it supports, and the choice between the two is checked.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import io_toposort
from pytensor.scan.op import Scan

import rnnlab.nn as lasagne
from rnnlab.nn.ops.recurrence import FusedRecurrence, FusedRecurrenceGrad

L = lasagne.layers
NL = lasagne.nonlinearities
LAYERS = {
    "elman": lambda l_in, **kw: L.RecurrentLayer(l_in, 5, nonlinearity=NL.tanh, **kw),
    "relu": lambda l_in, **kw: L.RecurrentLayer(l_in, 5, **kw),
    "lstm": lambda l_in, **kw: L.LSTMLayer(l_in, 5, **kw),
    "gru": lambda l_in, **kw: L.GRULayer(l_in, 5, **kw),
}


def _same(f):
    """``f`` under another name: the same values, but not a nonlinearity a kernel exists for."""
    return lambda x: f(x)


#: The same layers with one nonlinearity replaced by :func:`_same`'s copy: they run in ``scan``
#: (PyTensor's own gradient of the cell's step), the reference for the fused op.
SCAN_LAYERS = {
    "elman": lambda l_in, **kw: L.RecurrentLayer(l_in, 5, nonlinearity=_same(NL.tanh), **kw),
    "relu": lambda l_in, **kw: L.RecurrentLayer(l_in, 5, nonlinearity=_same(NL.rectify), **kw),
    "lstm": lambda l_in, **kw: L.LSTMLayer(l_in, 5, nonlinearity=_same(NL.tanh), **kw),
    "gru": lambda l_in, **kw: L.GRULayer(
        l_in, 5, hidden_update=L.Gate(W_cell=None, nonlinearity=_same(NL.tanh)), **kw),
}
# Each variant combines several options, so few functions are compiled.
VARIANTS = {
    "plain": {},
    "mask_backwards_truncated": {"backwards": True, "gradient_steps": 2, "mask": True},
    "clipped_final_learned_init": {"grad_clipping": 0.05, "only_return_final": True,
                                   "learn_init": True},
}
CASES = [(k, v) for k in LAYERS for v in VARIANTS] + [("lstm_no_peepholes", "mask_backwards_truncated")]


def _build(kind, variant, fused, dtype="float64", mode=None, shape=(None, None)):
    options = dict(VARIANTS[variant])
    use_mask = options.pop("mask", False)
    if kind == "lstm_no_peepholes":
        kind, options["peepholes"] = "lstm", False
    lasagne.random.set_rng(np.random.RandomState(3))
    with pytensor.config.change_flags(floatX=dtype):
        l_in = L.InputLayer(shape + (3,), input_var=pt.tensor("x", dtype=dtype, shape=shape + (3,)))
        l_mask = L.InputLayer(shape, input_var=pt.tensor("mask", dtype=dtype, shape=shape))
        layer = (LAYERS if fused else SCAN_LAYERS)[kind](
            l_in, mask_input=l_mask if use_mask else None, **options)
        out = L.get_output(layer)
        params = L.get_all_params(layer, trainable=True)
        loss = (out ** 2).sum() + out.sum()
        grads = pytensor.grad(loss, params + [l_in.input_var])
        inputs = [l_in.input_var] + ([l_mask.input_var] if use_mask else [])
        fn = pytensor.function(inputs, [out] + grads, mode=mode)
    return fn, use_mask


def _data(dtype="float64"):
    """Batch 17: more than one row shard of the kernels on a machine with several threads."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((17, 6, 3)).astype(dtype)
    mask = np.ones((17, 6), dtype)
    mask[1, 4:] = 0
    mask[2, 2] = 0                      # a gap in the middle, too
    return x, mask


@pytest.mark.parametrize("kind, variant", CASES)
def test_fused_equals_scan(kind, variant, float64):
    x, mask = _data()
    values = {}
    for fused in (True, False):
        fn, use_mask = _build(kind, variant, fused)
        ops = {type(node.op) for node in fn.maker.fgraph.apply_nodes}
        assert (FusedRecurrence in ops) == fused and (Scan in ops) != fused
        values[fused] = fn(x, mask) if use_mask else fn(x)
    for name, a, b in zip(["output", "grads..."], values[True], values[False]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{kind} {variant} {name}")


@pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                    reason="JAX is not installed (pip install -r requirements-jax.txt)")
@pytest.mark.filterwarnings("ignore:Skipping .* as JAX tracing would remove it:UserWarning")
@pytest.mark.parametrize("kind, variant", CASES)
def test_jax_translation_equals_the_kernels(kind, variant, float64):
    """The ops' JAX translations (rnnlab.nn.ops.jax_dispatch) against their kernels, float64."""
    import jax
    import pytensor.link.jax.dispatch  # noqa: F401  (sets JAX's 64-bit flag from floatX first)

    jax.config.update("jax_enable_x64", True)
    x, mask = _data()
    values = {}
    for mode in ("FAST_COMPILE", "JAX"):
        fn, use_mask = _build(kind, variant, True, mode=mode, shape=x.shape[:2])
        values[mode] = fn(x, mask) if use_mask else fn(x)
    for i, (a, b) in enumerate(zip(values["JAX"], values["FAST_COMPILE"])):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{kind} {variant} {i}")


def _ops(kind, **options):
    l_in = L.InputLayer((None, 4, 3))
    out = L.get_output(LAYERS[kind](l_in, **options))
    return {type(node.op) for node in io_toposort([l_in.input_var], [out])}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_default_layers_are_fused(kind):
    assert FusedRecurrence in _ops(kind)
    assert Scan not in _ops(kind)


@pytest.mark.parametrize("kind, options", [
    ("lstm", {"unroll_scan": True}),                                     # a Python loop instead
    ("relu", {"nonlinearity": lasagne.nonlinearities.sigmoid}),          # no fused sigmoid Elman
    ("gru", {"hidden_update": L.Gate(W_cell=None, nonlinearity=None)}),   # non-default gate
])
def test_options_without_a_fused_kernel_fall_back(kind, options):
    ops = _ops(kind, **options)
    assert FusedRecurrence not in ops
    if not options.get("unroll_scan"):
        assert Scan in ops


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "CVM", "NUMBA", "JAX"])
def test_the_graph_does_not_depend_on_the_mode_in_force(mode):
    with pytensor.config.change_flags(mode=mode):
        assert FusedRecurrence in _ops("lstm") and Scan not in _ops("lstm")


def test_float32_fast_math_is_close_to_float64():
    """float32 uses the polynomial exponential; it must agree with float64 to float32 precision."""
    x, mask = _data()
    out = {}
    for dtype in ("float32", "float64"):
        fn, _ = _build("lstm", "mask_backwards_truncated", True, dtype)
        out[dtype] = fn(x.astype(dtype), mask.astype(dtype))
    for a, b in zip(out["float32"], out["float64"]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("kind", ["elman", "lstm", "gru"])
def test_nan_inputs_propagate(kind):
    """A NaN must reach the loss (the training loop stops on it), also on the fast float32 path."""
    with pytensor.config.change_flags(floatX="float32"):
        l_in = L.InputLayer((None, None, 3))
        out = L.get_output(LAYERS[kind](l_in))
        fn = pytensor.function([l_in.input_var], out)
    x = np.ones((2, 4, 3), np.float32)
    x[0, 1, 0] = np.nan
    y = fn(x)
    assert np.isnan(y[0, 1:]).all() and not np.isnan(y[0, 0]).any() and np.isfinite(y[1]).all()


def test_internal_outputs_have_no_gradient():
    xp = pt.tensor3("xp", dtype="float64")
    outs = FusedRecurrence("lstm")(xp, np.zeros((2, 8)), np.ones((3, 1)), np.zeros((1, 2)),
                                   np.zeros((1, 2)), np.zeros((3, 2)))
    with pytest.raises(NotImplementedError, match="internal"):
        pytensor.grad(outs[2].sum(), xp)


def test_wrong_dtypes_are_rejected():
    with pytest.raises(TypeError, match="dtype"):
        FusedRecurrence("elman")(np.ones((2, 1, 3)), np.eye(3, dtype="float32"), np.ones((2, 1)),
                                 np.zeros((1, 3)))
    with pytest.raises(ValueError, match="kind"):
        FusedRecurrence("rnn")


@pytest.mark.slow
# PyTensor's own Numba Dot warns (at compile time, so only on a cold cache) when a gradient
# multiplies a transposed view, e.g. x.T @ dxp for W_in; our kernels pass contiguous arrays.
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
def test_numba_backend_matches_python_backend():
    """Under NUMBA the ops are compiled into the function (numba_funcify), not run by perform."""
    x, mask = _data("float32")
    results = {}
    for mode in ("FAST_COMPILE", "NUMBA"):
        results[mode] = []
        for kind in ("elman", "lstm", "gru"):
            lasagne.random.set_rng(np.random.RandomState(3))
            with pytensor.config.change_flags(floatX="float32"):
                l_in = L.InputLayer((None, None, 3))
                l_mask = L.InputLayer((None, None))
                layer = LAYERS[kind](l_in, mask_input=l_mask, gradient_steps=3, grad_clipping=1.0)
                out = L.get_output(layer)
                grads = pytensor.grad((out ** 2).sum(), L.get_all_params(layer, trainable=True))
                fn = pytensor.function([l_in.input_var, l_mask.input_var], [out] + grads,
                                       mode=mode)
            results[mode] += fn(x, mask)
    for a, b in zip(results["NUMBA"], results["FAST_COMPILE"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_optimised_graphs_run_the_ops_in_place_with_the_same_results():
    """Under the optimising modes the rewrite makes both ops overwrite their dead input (xp;
    A or dH); the results equal the FAST_COMPILE graph's, which keeps every array."""
    x, mask = _data()
    for kind in ("elman", "lstm", "gru"):
        results, inplace = {}, {}
        for mode in ("FAST_COMPILE", "CVM"):
            fn, _ = _build(kind, "mask_backwards_truncated", True, mode=mode)
            ops = [node.op for node in fn.maker.fgraph.toposort()
                   if isinstance(node.op, (FusedRecurrence, FusedRecurrenceGrad))]
            inplace[mode] = sorted((type(op).__name__, op.inplace) for op in ops)
            results[mode] = fn(x, mask)
        assert inplace["CVM"] == [("FusedRecurrence", True), ("FusedRecurrenceGrad", True)]
        assert inplace["FAST_COMPILE"] == [("FusedRecurrence", False),
                                           ("FusedRecurrenceGrad", False)]
        for a, b in zip(results["CVM"], results["FAST_COMPILE"]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=kind)


_CACHED_GRAPH = """
import numpy as np, pytensor, pytensor.tensor as pt
from rnnlab import backend
backend.configure(mode="NUMBA", floatX="float64")
from rnnlab.nn.ops.recurrence import FusedRecurrence
xp = pt.tensor3("xp", dtype="float64")
H = FusedRecurrence("elman")(xp, np.eye(2) / 2, np.ones((3, 20)), np.zeros((20, 2)))
fn = pytensor.function([xp], [H, pytensor.grad(H.sum(), xp)])
print(repr([a.sum() for a in fn(np.ones((3, 20, 2)))]))     # batch 20: two row shards
"""


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
def test_a_cached_numba_graph_runs_in_a_fresh_process():
    """The second process loads the compiled graph, with the parallel kernels linked in, from
    the cache without compiling anything: Numba's threading layer must already be running
    (it was not: "LLVM ERROR: Symbol not found: allocate_sched")."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    runs = [subprocess.run([sys.executable, "-c", _CACHED_GRAPH], env=env, capture_output=True,
                           text=True, timeout=600) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr[-2000:]
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.startswith("[")


@pytest.mark.parametrize("kind", ["elman", "lstm", "gru"])
def test_one_layout_per_kind_for_cells_ops_and_kernels(kind):
    """KINDS describes each kind once: the cell's state order, the ops' arity and the kernels'
    parameters all follow from it (a kernel whose signature drifted fails here, not at run time)."""
    import inspect

    from rnnlab.nn.ops.recurrence import KINDS

    spec = KINDS[kind]
    cell = LAYERS[kind](L.InputLayer((2, 3, 3))).make_cell()
    assert cell.state_names == spec.states
    options = 1 if spec.option else 0
    forward = list(inspect.signature(spec.forward.py_func).parameters)
    backward = list(inspect.signature(spec.backward.py_func).parameters)
    assert len(forward) == spec.n_inputs + options + 2 and forward[-2:] == ["fast", "inplace"]
    n_grad_inputs = spec.n_inputs - 1 + spec.n_outputs + len(spec.states)
    assert len(backward) == n_grad_inputs + options + 3
    assert backward[-3:] == ["steps", "clip", "inplace"]
    x = pt.tensor3("x", dtype="float64")
    out = FusedRecurrence(kind)(*[x] + [pt.as_tensor(np.zeros((1,) * n)) for n in
                                        [2, 2] + [2] * len(spec.states) + [2] * spec.extra],
                                return_list=True)
    assert len(out) == spec.n_outputs
    grad_node = pytensor.grad(out[0].sum(), x).owner
    while not isinstance(grad_node.op, FusedRecurrenceGrad):
        grad_node = grad_node.inputs[0].owner
    assert len(grad_node.inputs) == n_grad_inputs
    assert len(grad_node.outputs) == 2 + len(spec.states) + spec.extra


def test_an_option_of_another_kind_is_rejected():
    with pytest.raises(ValueError, match="peepholes=True: not an option of kind='gru'"):
        FusedRecurrence("gru", peepholes=True)
