"""Tests for rnnlab.model.compile: signatures and shapes, carried state, gradient norm and clipping,
the learning rate as a shared variable, stable cross-entropy, dropout only in training.

Compiling scan graphs costs seconds, so each network is compiled once per module (the
``text_model`` and ``series_model`` fixtures) and the tests share it.  Tests that train change the
shared parameters; every other test checks properties that hold for any parameter values.
"""

import re

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.config import CHOICES, ModelConfig, TrainConfig
from rnnlab.model.compile import OPTIMIZERS, compile_network, text_loss
from rnnlab.model.networks import CELLS, build_char_lm, build_forecaster
from rnnlab.nn import random as nn_random
from rnnlab.nn.layers import count_params, get_all_params, get_output

VOCAB, HIDDEN = 7, 8
FLOATX = pytensor.config.floatX
# One config per cell, together covering one-hot and embedding inputs, 1 and 2 layers, dropout.
TEXT_MODELS = {
    "elman": ModelConfig(cell="elman", hidden=HIDDEN, layers=1, dropout=0.0, embedding=0),
    "lstm": ModelConfig(cell="lstm", hidden=HIDDEN, layers=2, dropout=0.1, embedding=0),
    "gru": ModelConfig(cell="gru", hidden=HIDDEN, layers=1, dropout=0.0, embedding=4),
}
TEXT_TRAIN = TrainConfig(optimizer="adam", lr=0.05, max_grad_norm=5.0)
SERIES_TRAIN = TrainConfig(optimizer="sgd", lr=0.05, max_grad_norm=0.05)
LOOKBACK, FEATURES, HORIZON, TARGETS = 6, 2, 3, 2


def seeded(build):
    """``(build(),)`` with initial weights and dropout seeds drawn from a fixed generator."""
    old = nn_random.get_rng()
    try:
        nn_random.set_rng(np.random.RandomState(42))
        return (build(),)
    finally:
        nn_random.set_rng(old)


@pytest.fixture(scope="module")
def text_model():
    """``text_model(cell) -> (net, functions)``, compiled on first use and then shared."""
    cache = {}

    def get(cell):
        if cell not in cache:
            cache[cell] = seeded(lambda: build_char_lm(TEXT_MODELS[cell], VOCAB))
            cache[cell] += (compile_network(cache[cell][0], "text", TEXT_TRAIN),)
        return cache[cell]
    return get


@pytest.fixture(scope="module")
def series_model():
    cfg = ModelConfig(cell="elman", hidden=4)
    (net,) = seeded(lambda: build_forecaster(cfg, LOOKBACK, FEATURES, HORIZON, TARGETS))
    return net, compile_network(net, "series", SERIES_TRAIN)


def ids(shape, seed=0):
    return np.random.default_rng(seed).integers(0, VOCAB, size=shape).astype("int32")


def zero_states(net, batch):
    """What a training loop does, whatever the cell: one zero array per state input."""
    return [np.zeros((batch, l.output_shape[1]), dtype=FLOATX) for l in net.state_inputs]


def series_batch(batch=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(batch, LOOKBACK, FEATURES)).astype(FLOATX),
            rng.normal(size=(batch, HORIZON, TARGETS)).astype(FLOATX))


def param_values(fns):
    return [p.get_value() for p in fns.params]


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_text_functions_return_documented_shapes(text_model, cell):
    net, fns = text_model(cell)
    x, y = ids((3, 5)), ids((3, 5), seed=1)
    states = zero_states(net, 3)
    n_states = len(CELLS[cell].states) * TEXT_MODELS[cell].layers
    assert len(states) == n_states

    probs, *pred_states = fns.predict(x, *states)
    loss, *eval_states = fns.evaluate(x, y, *states)
    train_out = fns.train(x, y, *states)

    assert probs.shape == (3, 5, VOCAB) and probs.dtype == FLOATX
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)
    for out in (pred_states, eval_states, train_out[2:]):
        assert [s.shape for s in out] == [(3, HIDDEN)] * n_states
    assert np.ndim(loss) == np.ndim(train_out[0]) == np.ndim(train_out[1]) == 0
    assert train_out[1] > 0
    # evaluate's loss is the mean negative log-probability that predict gives the targets
    picked = np.take_along_axis(probs, y[..., None], axis=-1)
    np.testing.assert_allclose(loss, -np.log(picked).mean(), rtol=1e-5)
    np.testing.assert_allclose(pred_states, eval_states, rtol=1e-6)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_carried_state_equals_one_call_on_the_whole_sequence(text_model, cell):
    net, fns = text_model(cell)
    x, y = ids((2, 12), seed=2), ids((2, 12), seed=3)
    start = [np.random.default_rng(4).uniform(-0.5, 0.5, s.shape).astype(FLOATX)
             for s in zero_states(net, 2)]
    whole_loss, *whole_states = fns.evaluate(x, y, *start)
    loss_a, *mid = fns.evaluate(x[:, :6], y[:, :6], *start)
    loss_b, *end = fns.evaluate(x[:, 6:], y[:, 6:], *mid)
    np.testing.assert_allclose((loss_a + loss_b) / 2, whole_loss, rtol=1e-5)
    for carried, whole in zip(end, whole_states):
        np.testing.assert_allclose(carried, whole, rtol=1e-5, atol=1e-6)
    probs_whole = fns.predict(x, *start)[0]
    probs_a, *mid_pred = fns.predict(x[:, :6], *start)
    probs_b = fns.predict(x[:, 6:], *mid_pred)[0]
    np.testing.assert_allclose(np.concatenate([probs_a, probs_b], 1), probs_whole, rtol=1e-5,
                               atol=1e-6)
    # the carried state matters: restarting the second half from zeros gives other values
    fresh = fns.evaluate(x[:, 6:], y[:, 6:], *zero_states(net, 2))[0]
    assert abs(fresh - loss_b) > 1e-5


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_one_training_loop_for_every_cell_and_loss_decreases(text_model, cell):
    net, fns = text_model(cell)
    stream = np.array([i % VOCAB for i in range(2 * 10 * 31 + 1)], dtype="int32")
    streams_x = stream[:-1].reshape(2, -1)      # 2 parallel streams, consecutive 10-char chunks
    streams_y = stream[1:].reshape(2, -1)
    probe_x, probe_y = streams_x[:, :10], streams_y[:, :10]
    before = fns.evaluate(probe_x, probe_y, *zero_states(net, 2))[0]
    states, losses = zero_states(net, 2), []
    for step in range(30):
        chunk = slice(10 * step, 10 * (step + 1))
        loss, grad_norm, *states = fns.train(streams_x[:, chunk], streams_y[:, chunk], *states)
        assert np.isfinite(loss) and np.isfinite(grad_norm)
        losses.append(float(loss))
    after = fns.evaluate(probe_x, probe_y, *zero_states(net, 2))[0]
    assert before > 1.5                     # about ln 7 from a random start
    assert after < 0.5 * before
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_dropout_noise_only_in_train(text_model):
    net, fns = text_model("lstm")            # dropout 0.1 between and after the LSTM layers
    assert len(fns.random_state) == 2
    assert all(isinstance(v.get_value(), np.random.Generator) for v in fns.random_state)

    def snapshot():
        return [v.get_value().bit_generator.state["state"] for v in fns.random_state]

    x, y, states = ids((2, 4)), ids((2, 4), seed=5), zero_states(net, 2)
    first = snapshot()
    a, b = fns.evaluate(x, y, *states)[0], fns.evaluate(x, y, *states)[0]
    fns.predict(x, *states)
    assert a == b and snapshot() == first   # deterministic, generators untouched
    fns.train(x, y, *states)
    assert all(s != f for s, f in zip(snapshot(), first))
    assert text_model("elman")[1].random_state == []


def test_params_names_count_and_optimizer_state(text_model):
    net, fns = text_model("lstm")
    names = [p.name for p in fns.params]
    assert names == [p.name for p in get_all_params(net.output, trainable=True)]
    assert len(set(names)) == len(names)
    assert fns.n_params == count_params(net.output, trainable=True)
    assert "rec0.W_in_to_ingate.adam.m" in fns.updates.state and "adam.t" in fns.updates.state
    assert fns.optimizer_updates is fns.updates
    assert fns.lr.name == "lr" and fns.lr.get_value().dtype == FLOATX


def test_text_loss_is_stable_for_huge_logits():
    logits = np.array([[[4e4, -4e4, 0.0], [1.0, 2.0, 3.0]]], dtype=FLOATX)   # (1, 2, 3)
    targets = np.array([[1, 0]], dtype="int32")
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = -(log_probs[0, 0, 1] + log_probs[0, 1, 0]) / 2          # 4e4 + ... nats
    logits_var = pt.tensor3("logits", dtype=FLOATX)
    loss = text_loss(logits_var, pt.as_tensor(targets))
    value, grad = pytensor.function([logits_var], [loss, pytensor.grad(loss, logits_var)])(logits)
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad.sum(-1), 0, atol=1e-6)   # softmax - one-hot, averaged


def test_huge_output_bias_keeps_the_compiled_loss_finite(text_model):
    net, fns = text_model("elman")
    bias = net.output.b
    saved = bias.get_value()
    try:
        bias.set_value(np.array([5e4] + [-5e4] * (VOCAB - 1), dtype=FLOATX))
        y = np.ones((2, 3), dtype="int32")      # every target gets probability ~exp(-1e5)
        loss = fns.evaluate(ids((2, 3)), y, *zero_states(net, 2))[0]
    finally:
        bias.set_value(saved)
    assert np.isfinite(loss) and loss > 9e4


def test_series_functions_shapes_and_mse(series_model):
    net, fns = series_model
    x, y = series_batch()
    (yhat,) = fns.predict(x)
    (loss,) = fns.evaluate(x, y)
    assert yhat.shape == (5, HORIZON, TARGETS) and yhat.dtype == FLOATX
    np.testing.assert_allclose(loss, np.mean((yhat - y) ** 2), rtol=1e-5)
    out = fns.train(x, y)
    assert len(out) == 2 and np.ndim(out[0]) == np.ndim(out[1]) == 0
    np.testing.assert_allclose(out[0], loss, rtol=1e-5)   # no dropout: same loss as evaluate
    assert fns.random_state == []


def reference_gradients(net, fns):
    """Gradients of the MSE w.r.t. the parameters, compiled independently of rnnlab.model.compile."""
    y = pt.tensor3("y", dtype=FLOATX)
    loss = pt.mean((get_output(net.output) - y) ** 2)
    return pytensor.function([net.inputs.input_var, y], pytensor.grad(loss, fns.params))


def test_grad_norm_is_the_norm_before_clipping(series_model):
    net, fns = series_model
    x, y = series_batch(seed=1)
    grads = reference_gradients(net, fns)(x, y)
    norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
    max_norm, lr = SERIES_TRAIN.max_grad_norm, float(fns.lr.get_value())
    assert norm > 2 * max_norm                  # so clipping is active
    before = param_values(fns)
    _, grad_norm = fns.train(x, y)
    np.testing.assert_allclose(grad_norm, norm, rtol=1e-4)
    # the applied step is the gradient rescaled to norm max_norm
    for old, new, g in zip(before, param_values(fns), grads):
        np.testing.assert_allclose(new - old, -lr * g * max_norm / norm, rtol=1e-3, atol=1e-7)


def test_learning_rate_is_a_shared_variable(series_model):
    net, fns = series_model
    train = fns.train
    x, y = series_batch(seed=2)
    saved = fns.lr.get_value()
    try:
        fns.lr.set_value(np.asarray(0, dtype=FLOATX))
        before = param_values(fns)
        fns.train(x, y)
        for old, new in zip(before, param_values(fns)):
            np.testing.assert_array_equal(new, old)
        steps = []
        for lr in (0.01, 0.02):
            fns.lr.set_value(np.asarray(lr, dtype=FLOATX))
            before = param_values(fns)
            fns.train(x, y)
            steps.append(np.concatenate([(n - o).ravel()
                                         for o, n in zip(before, param_values(fns))]))
            for p, old in zip(fns.params, before):   # undo the step: same gradient next time
                p.set_value(old)
    finally:
        fns.lr.set_value(saved)
    np.testing.assert_allclose(steps[1], 2 * steps[0], rtol=1e-3, atol=1e-7)
    assert fns.train is train


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_each_function_compiled_once_with_the_chosen_optimizer(monkeypatch, optimizer):
    calls = []

    def fake_function(inputs, outputs, updates=None, **kwargs):   # records, compiles nothing
        calls.append({"inputs": inputs, "outputs": outputs, "updates": updates, **kwargs})
        return len(calls)
    monkeypatch.setattr(pytensor, "function", fake_function)
    net = build_forecaster(ModelConfig(cell="elman", hidden=2), LOOKBACK, FEATURES, 1, 1)
    fns = compile_network(net, "series", TrainConfig(optimizer=optimizer, lr=0.01,
                                                     max_grad_norm=0.0), mode="FAST_COMPILE")
    assert (fns.train, fns.evaluate, fns.predict) == (1, 2, 3)
    assert [len(c["inputs"]) for c in calls] == [2, 2, 1]
    assert [len(c["outputs"]) for c in calls] == [2, 1, 1]
    assert all(c["mode"] == "FAST_COMPILE" for c in calls)
    assert calls[0]["updates"] is fns.updates
    assert calls[1]["updates"] is None and calls[2]["updates"] is None
    assert set(fns.params) <= set(fns.updates)
    assert set(fns.updates.state.values()) == set(fns.updates) - set(fns.params)
    prefix = {"nesterov": "nesterov_momentum"}.get(optimizer, optimizer)
    assert all(f"{prefix}." in name for name in fns.updates.state)
    assert (optimizer == "sgd") == (len(fns.updates.state) == 0)


def test_optimizer_names_match_the_config_choices():
    assert sorted(OPTIMIZERS) == sorted(CHOICES["train.optimizer"])


@pytest.mark.parametrize("kind, train_cfg, error, message", [
    ("txt", TEXT_TRAIN, ValueError, "kind='txt': expected one of text, series"),
    ("text", {"optimizer": "adam", "lr": 0.1, "max_grad_norm": 1.0}, TypeError,
     "expected the config's train section (rnnlab.config.TrainConfig)"),
    ("text", None, TypeError, "train_cfg=None"),
])
def test_bad_arguments_fail_before_compiling(kind, train_cfg, error, message):
    net = build_char_lm(TEXT_MODELS["elman"], VOCAB)
    with pytest.raises(error, match=re.escape(message)):
        compile_network(net, kind, train_cfg)
