"""One graph for every backend: a network is built once and that graph compiles in every mode.

Building never reads the compile mode; the compiler chooses each op's implementation (``perform``
for CVM and FAST_COMPILE, the NUMBA translation, the JAX one).  So the graph built here once, an
embedding, an LSTM with truncated backpropagation and clipping, a GRU on a mask and a softmax
cross-entropy, compiles under each mode and gives the same loss and gradients.  Its inputs have
fixed sizes, as PyTensor's JAX backend needs (rnnlab's training functions get them by being
compiled per input shape under JAX, :mod:`rnnlab.model.compile`).
"""

import importlib.util

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import rnnlab.nn as lasagne

L = lasagne.layers
MODES = ["FAST_COMPILE", "CVM", "NUMBA", pytest.param("JAX", marks=pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="JAX is not installed (pip install jax: the optional JAX test dependency)"))]


def _network():
    saved = lasagne.random.get_rng()
    lasagne.random.set_rng(np.random.RandomState(7))
    try:
        return _build_network()
    finally:                        # built in a module fixture: the per-test restore is too late
        lasagne.random.set_rng(saved)


def _build_network():
    with pytensor.config.change_flags(floatX="float64"):
        l_in = L.InputLayer((9, 7), input_var=pt.tensor("ids", dtype="int32", shape=(9, 7)))
        l_mask = L.InputLayer((9, 7), input_var=pt.tensor("mask", shape=(9, 7)))
        l_emb = L.EmbeddingLayer(l_in, 11, 5)
        l_lstm = L.LSTMLayer(l_emb, 6, gradient_steps=3, grad_clipping=1.0)
        l_gru = L.GRULayer(l_lstm, 4, mask_input=l_mask, backwards=True)
        l_out = L.DenseLayer(l_gru, 11, nonlinearity=None, num_leading_axes=2)
        targets = pt.tensor("targets", dtype="int32", shape=(9, 7))
        logits = L.get_output(l_out)
        loss = lasagne.objectives.softmax_crossentropy(logits, targets).mean()
        params = L.get_all_params(l_out, trainable=True)
        grads = pytensor.grad(loss, params)
    return [l_in.input_var, l_mask.input_var, targets], [loss, *grads]


@pytest.fixture(scope="module")
def graph():
    """Built once: every mode below compiles this very graph."""
    return _network()


def _data():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 11, size=(9, 7)).astype("int32")
    mask = np.ones((9, 7))
    mask[2, 5:] = 0
    return ids, mask, rng.integers(0, 11, size=(9, 7)).astype("int32")


@pytest.fixture(scope="module")
def reference(graph):
    return pytensor.function(*graph, mode="FAST_COMPILE")(*_data())


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
# PyTensor's JAX backend drops the graph's shape assertions, and says so.
@pytest.mark.filterwarnings("ignore:Skipping .* as JAX tracing would remove it:UserWarning")
@pytest.mark.parametrize("mode", MODES)
def test_the_same_graph_compiles_under_every_mode_with_the_same_results(mode, graph, reference):
    if mode == "JAX":   # float64 under JAX needs its 64-bit types, which PyTensor's JAX
        # backend sets from floatX (float32 here) when it is first imported
        importlib.import_module("pytensor.link.jax.dispatch")
        importlib.import_module("jax").config.update("jax_enable_x64", True)
    inputs, outputs = graph
    results = pytensor.function(inputs, outputs, mode=mode)(*_data())
    assert len(results) == len(reference) > 10
    for i, (a, b) in enumerate(zip(results, reference)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{mode} output {i}")
