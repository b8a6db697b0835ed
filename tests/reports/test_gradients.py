"""Tests for rnnlab.reports.gradients: dL/dh_t against the numpy reference's hand-derived BPTT."""

import numpy as np
import pytensor
import pytest

from rnnlab import reference
from rnnlab.config import ModelConfig
from rnnlab.model.networks import build_forecaster
from rnnlab.nn import nonlinearities
from rnnlab.nn.layers import Gate, InputLayer, LSTMLayer, RecurrentLayer
from rnnlab.reports.gradients import (cell_gradient_norms, hidden_gradients,
                                      network_gradient_norms, norms_by_lag, probe_hidden)


def _reference_dh(params, x, v):
    """dL/dh_t for L = sum_b v . h_{b,T-1}, from rnnlab.reference.elman_backward.

    dL/dh_t is the gradient w.r.t. the initial state of the same network run over x[:, t+1:]
    from h_t, with dH zero except at its last step.
    """
    batch, steps, _ = x.shape
    H, _ = reference.elman_forward(params, x, np.zeros((batch, v.size)))
    out = np.zeros_like(H)
    out[:, -1] = v
    for t in range(steps - 1):
        H_sub, cache = reference.elman_forward(params, x[:, t + 1:], H[:, t])
        dH = np.zeros_like(H_sub)
        dH[:, -1] = v
        out[:, t] = reference.elman_backward(params, cache, dH)["h0"]
    return out


def test_elman_matches_reference_and_decays_geometrically(float64):
    rng = np.random.default_rng(0)
    batch, steps, n_in, units = 3, 12, 2, 5
    params = reference.init_elman_params(n_in, units, rng=1)
    w_hid = params["W_hid_to_hid"]
    rho = 0.6
    params["W_hid_to_hid"] = w_hid * (rho / np.linalg.norm(w_hid, 2))   # spectral norm 0.6
    x = rng.standard_normal((batch, steps, n_in))
    v = rng.standard_normal(units)

    l_in = InputLayer((None, steps, n_in))
    layer = RecurrentLayer(l_in, units, W_in_to_hid=params["W_in_to_hid"],
                           W_hid_to_hid=params["W_hid_to_hid"], b=params["b"],
                           nonlinearity=nonlinearities.tanh)
    probe, hid = probe_hidden(layer)
    grads = hidden_gradients((hid[:, -1] * v).sum(), probe, {l_in.input_var: x})

    np.testing.assert_allclose(grads, _reference_dh(params, x, v), rtol=1e-10, atol=1e-14)
    norms = norms_by_lag(grads)
    assert norms.shape == (steps,)
    assert norms[0] == pytest.approx(np.linalg.norm(v))
    # |tanh'| <= 1, so ||dL/dh_{t-1}|| <= ||W_hid||_2 ||dL/dh_t||: at least geometric decay.
    lags = np.arange(steps)
    assert np.all(norms <= norms[0] * rho ** lags * (1 + 1e-12))
    assert np.all(np.diff(norms) < 0)


def test_lstm_with_high_forget_bias_keeps_the_gradient(float64):
    batch, steps, n_in, units = 4, 25, 3, 6
    rng = np.random.default_rng(3)

    def gate(nonlinearity=nonlinearities.sigmoid):
        return Gate(W_in=0.3 * rng.standard_normal((n_in, units)),
                    W_hid=0.3 * rng.standard_normal((units, units)), W_cell=None,
                    nonlinearity=nonlinearity)

    l_in = InputLayer((None, steps, n_in))
    layer = LSTMLayer(l_in, units, ingate=gate(), forgetgate=gate(),
                      cell=gate(nonlinearities.tanh), outgate=gate(), peepholes=False)
    probe, hid = probe_hidden(layer)
    grad = pytensor.grad(hid[:, -1].sum(), probe)
    fn = pytensor.function([l_in.input_var], grad)        # one compile, two forget biases
    x = rng.standard_normal((batch, steps, n_in))

    layer.b_forgetgate.set_value(np.full(units, 5.0))     # f ~ 0.99: the cell remembers
    high = norms_by_lag(fn(x))
    layer.b_forgetgate.set_value(np.full(units, -2.0))    # f ~ 0.1: it forgets at once
    low = norms_by_lag(fn(x))

    assert high[-1] / high[0] > 1e-2                      # within 100x after 24 steps
    assert low[-1] / low[0] < 1e-10                       # vanished
    assert np.all(high[10:] > 1e4 * low[10:])


def test_cell_gradient_norms_on_the_models_cells():
    norms = {cell: cell_gradient_norms(cell, units=6, steps=8, n_inputs=2, batch=3, seed=1)
             for cell in ("elman", "lstm")}
    for values in norms.values():
        assert values.shape == (8,)
        assert values[0] == pytest.approx(1.0, rel=1e-5)  # dL/dh_{T-1} = v, a unit vector
        assert np.all(np.isfinite(values)) and np.all(values[1:] < 1.0)
    again = cell_gradient_norms("elman", units=6, steps=8, n_inputs=2, batch=3, seed=1)
    np.testing.assert_array_equal(again, norms["elman"])          # the seed fixes everything


def test_network_gradient_norms_series_probe_any_layer():
    cfg = ModelConfig(cell="elman", hidden=4, layers=2, dropout=0.5, gradient_steps=3)
    net = build_forecaster(cfg, lookback=6, n_features=2, horizon=3, n_targets=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6, 2)).astype(pytensor.config.floatX)
    y = rng.standard_normal((5, 3, 1)).astype(pytensor.config.floatX)
    norms = network_gradient_norms(net, "series", x, y, layer=0)
    assert norms.shape == (6,)
    # gradient_steps=3 truncates BPTT: nothing reaches the first three steps of either layer.
    assert np.all(norms[:3] > 0) and np.all(norms[3:] == 0)


@pytest.mark.parametrize("call, message", [
    (lambda: cell_gradient_norms("rnn"), "cell='rnn'"),
    (lambda: cell_gradient_norms("lstm", steps=0), "steps=0"),
    (lambda: probe_hidden(InputLayer((None, 3, 2))), "expected a recurrent layer"),
    (lambda: probe_hidden(RecurrentLayer(InputLayer((None, 3, 2)), 2, backwards=True)),
     "backwards=True"),
    (lambda: norms_by_lag(np.zeros((2, 3))), "expected (batch, time, units)"),
])
def test_bad_arguments(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


def test_measurements_build_and_compile_in_fast_compile_whatever_the_mode(monkeypatch):
    """One evaluation does not repay an optimising compile (NUMBA: minutes on a cold cache)."""
    compiled_under = []
    real_function = pytensor.function

    def spy(*args, **kwargs):
        compiled_under.append(str(pytensor.config.mode))
        return real_function(*args, **kwargs)

    monkeypatch.setattr(pytensor, "function", spy)
    net = build_forecaster(ModelConfig(cell="elman", hidden=3), lookback=4, n_features=1, horizon=2, n_targets=1)
    x, y = np.ones((2, 4, 1), "float32"), np.zeros((2, 2, 1), "float32")
    with pytensor.config.change_flags(mode="CVM"):
        cell_gradient_norms("lstm", units=3, steps=4, n_inputs=2, batch=2)
        network_gradient_norms(net, "series", x, y)
        assert str(pytensor.config.mode) == "CVM"          # the caller's mode is back
    assert compiled_under == ["FAST_COMPILE", "FAST_COMPILE"]
