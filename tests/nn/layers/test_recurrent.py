"""Tests of rnnlab.nn.layers.recurrent: Elman, custom, LSTM and GRU layers.

Every layer kind is checked, in float64, against an independent numpy forward pass (with masks,
backwards and given initial states) and against central finite differences.  One function is
compiled per kind (module-scoped ``harness``); the tests call it with different data.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import init, nonlinearities
from rnnlab.nn.layers import (CustomRecurrentLayer, DenseLayer, Gate, GRULayer, InputLayer,
                              LSTMLayer, RecurrentLayer, count_params, get_all_params,
                              get_output, get_output_shape)

B, T, FEAT, U = 3, 5, (3, 2), 4
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], dtype=float)


# ------------------------------------------------------------------ numpy reference
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def value(layer, name):
    return getattr(layer, name).get_value()


def numpy_step(kind, layer):
    """The layer's step in numpy: ``step(x, *states) -> states`` (states end with ``hid``)."""
    if kind == "elman":
        w_in, w_hid, b = (value(layer, n) for n in ("W_in_to_hid", "W_hid_to_hid", "b"))
        return lambda x, h: (np.tanh(x @ w_in + h @ w_hid + b),)
    if kind == "custom":
        w_in, b = layer.input_to_hidden.W.get_value(), layer.input_to_hidden.b.get_value()
        w_hid = layer.hidden_to_hidden.W.get_value()
        return lambda x, h: (np.tanh(np.tanh(x @ w_in + b) + h @ w_hid),)
    if kind == "gru":
        p = {g: [value(layer, f"{w}{g}") for w in ("W_in_to_", "W_hid_to_", "b_")]
             for g in ("resetgate", "updategate", "hidden_update")}

        def gru(x, h):
            r = sigmoid(x @ p["resetgate"][0] + h @ p["resetgate"][1] + p["resetgate"][2])
            u = sigmoid(x @ p["updategate"][0] + h @ p["updategate"][1] + p["updategate"][2])
            w_in, w_hid, b = p["hidden_update"]
            c = np.tanh(x @ w_in + r * (h @ w_hid) + b)
            return ((1 - u) * h + u * c,)
        return gru
    p = {g: [value(layer, f"{w}{g}") for w in ("W_in_to_", "W_hid_to_", "b_")]
         for g in ("ingate", "forgetgate", "cell", "outgate")}
    peep = {g: value(layer, f"W_cell_to_{g}") if layer.peepholes else 0
            for g in ("ingate", "forgetgate", "outgate")}

    def lstm(x, c, h):
        pre = {g: x @ w_in + h @ w_hid + b for g, (w_in, w_hid, b) in p.items()}
        i = sigmoid(pre["ingate"] + c * peep["ingate"])
        f = sigmoid(pre["forgetgate"] + c * peep["forgetgate"])
        c = f * c + i * np.tanh(pre["cell"])
        o = sigmoid(pre["outgate"] + c * peep["outgate"])
        return c, o * np.tanh(c)
    return lstm


def numpy_recurrence(step, x, states, mask=None, backwards=False):
    """Returns the hidden states ``(batch, time, U)`` and the final states."""
    x = x.reshape(x.shape[:2] + (-1,))
    hids = [None] * x.shape[1]
    for t in (reversed(range(x.shape[1])) if backwards else range(x.shape[1])):
        new = step(x[:, t], *states)
        if mask is not None:
            new = tuple(np.where(mask[:, t, None] > 0, n, s) for n, s in zip(new, states))
        states = new
        hids[t] = states[-1]
    return np.stack(hids, axis=1), states


# ------------------------------------------------------------------ the harness
def make_layer(kind, incoming, **kwargs):
    if kind == "elman":
        return RecurrentLayer(incoming, U, nonlinearity=nonlinearities.tanh, **kwargs)
    if kind == "custom":
        in_to_hid = DenseLayer(InputLayer((None,) + FEAT), U, nonlinearity=nonlinearities.tanh)
        hid_to_hid = DenseLayer(InputLayer((None, U)), U, b=None, nonlinearity=None)
        return CustomRecurrentLayer(incoming, in_to_hid, hid_to_hid,
                                    nonlinearity=nonlinearities.tanh, **kwargs)
    if kind == "gru":
        return GRULayer(incoming, U, **kwargs)
    return LSTMLayer(incoming, U, peepholes=(kind == "lstm"), **kwargs)


KINDS = ["elman", "custom", "gru", "lstm", "lstm_nopeep"]
HAS_CELL = {"lstm", "lstm_nopeep"}
# Variants beyond base / nopre / bw; the mechanics they test are shared by all kinds (recur).
EXTRAS = {"elman": {"unroll"}, "lstm": {"unroll", "final", "bwfinal", "trunc"}}


class Harness:
    """All variants of one layer kind, sharing parameter values, compiled into one function."""

    def __init__(self, kind):
        rng = np.random.default_rng(42)
        self.kind, extras = kind, EXTRAS.get(kind, set())
        l_in = InputLayer((None, None) + FEAT)
        l_mask = InputLayer((None, None))
        l_hid0 = InputLayer((None, U))
        l_cell0 = InputLayer((None, U)) if kind in HAS_CELL else None
        inits = {"hid_init": l_hid0}
        if l_cell0 is not None:
            inits["cell_init"] = l_cell0
        self.layers = {"base": make_layer(kind, l_in, mask_input=l_mask, **inits),
                       "nopre": make_layer(kind, l_in, mask_input=l_mask, precompute_input=False),
                       "bw": make_layer(kind, l_in, mask_input=l_mask, backwards=True)}
        inputs = [l_in.input_var, l_mask.input_var, l_hid0.input_var]
        if l_cell0 is not None:
            inputs.append(l_cell0.input_var)
        if "unroll" in extras:
            l_in_fixed = InputLayer((None, T) + FEAT)
            self.layers["unroll"] = make_layer(kind, l_in_fixed, unroll_scan=True)
            inputs.append(l_in_fixed.input_var)
        if "final" in extras:
            self.layers["final"] = make_layer(kind, l_in, only_return_final=True)
        if "bwfinal" in extras:
            self.layers["bwfinal"] = make_layer(kind, l_in, backwards=True, only_return_final=True)
        if "trunc" in extras:
            self.layers["trunc"] = make_layer(kind, l_in, gradient_steps=2)
        values = [rng.normal(0, 0.5, p.get_value().shape)
                  for p in self.layers["base"].get_params(trainable=True)]
        for layer in self.layers.values():
            for p, v in zip(layer.get_params(trainable=True), values):
                p.set_value(v)
        self.l_in, self.inputs = l_in, inputs
        r = pt.tensor3("r")  # the cost is sum(r * output): every output element matters
        states = {}
        outs = get_output(list(self.layers.values()), final_states=states)
        keys = list(self.layers)
        for name, layer in self.layers.items():
            for state in sorted(states[layer]):  # final states: "base.hid", "base.cell", ...
                keys.append(f"{name}.{state}")
                outs.append(states[layer][state])
        self.grad_slices = {}
        for name in ("base", "trunc"):
            if name in self.layers:
                wrt = [l_in.input_var] + self.layers[name].get_params(trainable=True)
                grads = pytensor.grad((outs[keys.index(name)] * r).sum(), wrt)
                self.grad_slices[name] = slice(len(outs), len(outs) + len(grads))
                outs += grads
        self.keys = keys
        self.fn = pytensor.function(inputs + [r], outs)

    def __call__(self, x, mask=None, hid0=None, cell0=None, r=None):
        """Run every variant; returns {variant: output, "variant.state": final state,
        "grad.variant": [d cost / d x, d cost / d params...]}."""
        batch, time = x.shape[:2]
        args = [x, np.ones((batch, time)) if mask is None else mask,
                np.zeros((batch, U)) if hid0 is None else hid0]
        if self.kind in HAS_CELL:
            args.append(np.zeros((batch, U)) if cell0 is None else cell0)
        if "unroll" in self.layers:  # its input has a fixed length T
            args.append(x if time == T else np.zeros((batch, T) + FEAT))
        if r is None:
            r = np.random.default_rng(1).normal(size=(batch, time, U))
        values = self.fn(*args, r)
        result = dict(zip(self.keys, values))
        for name, where in self.grad_slices.items():
            result[f"grad.{name}"] = values[where]
        return result

    def reference(self, name, x, mask=None, states=None):
        """numpy hidden states and final states of variant ``name``."""
        if states is None:
            states = (np.zeros((x.shape[0], U)),) * (2 if self.kind in HAS_CELL else 1)
        return numpy_recurrence(numpy_step(self.kind, self.layers[name]), x, states, mask,
                                backwards=self.layers[name].backwards)


@pytest.fixture(scope="module", params=KINDS)
def harness(request):
    with pytensor.config.change_flags(floatX="float64"):
        yield Harness(request.param)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    return {"x": rng.normal(size=(B, T) + FEAT), "hid0": rng.normal(size=(B, U)),
            "cell0": rng.normal(size=(B, U))}


def input_shapes(harness):
    """Concrete shapes of every input layer of the harness, for get_output_shape."""
    shapes = {}
    for layer in harness.layers.values():
        for incoming in layer.input_layers:
            if isinstance(incoming, InputLayer):
                shapes[incoming] = tuple(B if s is None and i == 0 else T if s is None else s
                                         for i, s in enumerate(incoming.shape))
    return shapes


# ------------------------------------------------------------------ tests using the harness
def test_output_shapes_match_get_output_shape(harness, data):
    result = harness(data["x"])
    shapes = input_shapes(harness)
    for name, layer in harness.layers.items():
        assert result[name].shape == get_output_shape(layer, shapes)
        final = name in ("final", "bwfinal")
        declared = (None,) if final else (None, T if name == "unroll" else None)
        assert layer.output_shape == declared + (U,)
        assert result[f"{name}.hid"].shape == (B, U)


def test_outputs_match_numpy(harness, data):
    x, hid0, cell0 = data["x"], data["hid0"], data["cell0"]
    result = harness(x, MASK, hid0, cell0)
    states = (cell0, hid0) if harness.kind in HAS_CELL else (hid0,)
    expected, final = harness.reference("base", x, MASK, states)
    np.testing.assert_allclose(result["base"], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result["base.hid"], final[-1], rtol=1e-10, atol=1e-12)
    if harness.kind in HAS_CELL:
        assert sorted(k for k in result if k.startswith("base.")) == ["base.cell", "base.hid"]
        np.testing.assert_allclose(result["base.cell"], final[0], rtol=1e-10, atol=1e-12)
    else:
        assert [k for k in result if k.startswith("base.")] == ["base.hid"]
    for name in ("nopre", "bw"):
        expected, final = harness.reference(name, x, MASK)
        np.testing.assert_allclose(result[name], expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(result[f"{name}.hid"], final[-1], rtol=1e-10, atol=1e-12)


def test_mask_carries_the_state_over(harness, data):
    result = harness(data["x"], MASK, data["hid0"], data["cell0"])
    fw, bw = result["base"], result["bw"]
    for b, t in zip(*np.nonzero(MASK == 0)):
        np.testing.assert_array_equal(fw[b, t], fw[b, t - 1] if t > 0 else data["hid0"][b])
        np.testing.assert_array_equal(bw[b, t], bw[b, t + 1] if t < T - 1 else np.zeros(U))
    assert not np.allclose(fw[0, 1], fw[0, 0])  # real steps do change the state
    # The final state is the last output (forward) or the first one (backwards).
    np.testing.assert_array_equal(result["base.hid"], fw[:, -1])
    np.testing.assert_array_equal(result["bw.hid"], bw[:, 0])


def test_backwards_is_forward_on_reversed_input(harness, data):
    x = data["x"]
    result = harness(x, MASK)
    reversed_run = harness(x[:, ::-1].copy(), MASK[:, ::-1].copy())
    np.testing.assert_allclose(result["bw"], reversed_run["base"][:, ::-1], rtol=1e-12)
    np.testing.assert_allclose(result["bw.hid"], reversed_run["base.hid"], rtol=1e-12)


def test_precompute_and_unroll_give_the_same_values(harness, data):
    result = harness(data["x"])
    np.testing.assert_allclose(result["nopre"], result["base"], rtol=1e-12, atol=1e-14)
    if "unroll" in result:
        np.testing.assert_allclose(result["unroll"], result["base"], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(result["unroll.hid"], result["base.hid"], rtol=1e-12)


def test_carrying_final_states_equals_one_long_sequence(harness, data):
    x, hid0, cell0 = data["x"], data["hid0"], data["cell0"]
    full = harness(x, hid0=hid0, cell0=cell0)
    first = harness(x[:, :2], hid0=hid0, cell0=cell0)
    second = harness(x[:, 2:], hid0=first["base.hid"], cell0=first.get("base.cell"))
    np.testing.assert_allclose(np.concatenate([first["base"], second["base"]], axis=1),
                               full["base"], rtol=1e-12)
    np.testing.assert_allclose(second["base.hid"], full["base.hid"], rtol=1e-12)
    if harness.kind in HAS_CELL:
        np.testing.assert_allclose(second["base.cell"], full["base.cell"], rtol=1e-12)


def test_gradients_match_finite_differences(harness, data):
    x, hid0, cell0 = data["x"], data["hid0"], data["cell0"]
    r = np.random.default_rng(3).normal(size=(B, T, U))
    analytic = harness(x, MASK, hid0, cell0, r)["grad.base"]

    def cost(x):
        return (harness(x, MASK, hid0, cell0, r)["base"] * r).sum()

    rng, eps = np.random.default_rng(5), 1e-6
    params = harness.layers["base"].get_params(trainable=True)
    assert len(analytic) == 1 + len(params)
    for i in rng.choice(x.size, 4, replace=False):
        step = np.zeros(x.size)
        step[i] = eps
        step = step.reshape(x.shape)
        numeric = (cost(x + step) - cost(x - step)) / (2 * eps)
        assert numeric == pytest.approx(analytic[0].flat[i], rel=1e-6, abs=1e-8)
    for param, grad in zip(params, analytic[1:]):
        original = param.get_value()
        for i in rng.choice(original.size, min(3, original.size), replace=False):
            values = []
            for sign in (1, -1):
                perturbed = original.copy()
                perturbed.flat[i] += sign * eps
                param.set_value(perturbed)
                values.append(cost(x))
            param.set_value(original)
            numeric = (values[0] - values[1]) / (2 * eps)
            assert numeric == pytest.approx(grad.flat[i], rel=1e-6, abs=1e-8), param.name


@pytest.mark.parametrize("harness", ["lstm"], indirect=True)
def test_only_return_final(harness, data):
    result = harness(data["x"])
    np.testing.assert_array_equal(result["final"], result["base"][:, -1])
    np.testing.assert_array_equal(result["bwfinal"], result["bw"][:, 0])
    np.testing.assert_array_equal(result["bwfinal.cell"], result["bw.cell"])


@pytest.mark.parametrize("harness", ["lstm"], indirect=True)
def test_gradient_steps_truncates_backpropagation(harness, data):
    # "trunc" has gradient_steps=2; without mask and initial states "base" computes the same.
    result = harness(data["x"])
    np.testing.assert_allclose(result["trunc"], result["base"], rtol=1e-12)
    full, truncated = result["grad.base"], result["grad.trunc"]
    np.testing.assert_array_equal(truncated[0][:, :T - 2], 0)
    assert np.abs(full[0][:, :T - 2]).min() > 0
    np.testing.assert_allclose(truncated[0][:, T - 2:], full[0][:, T - 2:], rtol=1e-10)
    assert not all(np.allclose(f, t) for f, t in zip(full[1:], truncated[1:]))
    # With no more steps than gradient_steps, nothing is truncated.
    short = harness(data["x"][:, :2])
    for f, t in zip(short["grad.base"], short["grad.trunc"]):
        np.testing.assert_allclose(t, f, rtol=1e-10, atol=1e-14)


# ------------------------------------------------------------------ construction and parameters
N_IN = int(np.prod(FEAT))


@pytest.mark.parametrize("kind, learn_init, weights, biases, inits", [
    ("elman", False, N_IN * U + U * U, U, U),
    ("elman", True, N_IN * U + U * U, U, U),
    ("custom", True, N_IN * U + U * U, U, U),
    ("gru", False, 3 * (N_IN * U + U * U), 3 * U, U),
    ("gru", True, 3 * (N_IN * U + U * U), 3 * U, U),
    ("lstm", False, 4 * (N_IN * U + U * U) + 3 * U, 4 * U, 2 * U),  # peepholes are weights
    ("lstm", True, 4 * (N_IN * U + U * U) + 3 * U, 4 * U, 2 * U),
    ("lstm_nopeep", False, 4 * (N_IN * U + U * U), 4 * U, 2 * U),
    ("lstm_nopeep", True, 4 * (N_IN * U + U * U), 4 * U, 2 * U),
])
def test_parameter_counts_per_tag(kind, learn_init, weights, biases, inits):
    layer = make_layer(kind, InputLayer((None, None) + FEAT), learn_init=learn_init)
    assert count_params(layer) == weights + biases + inits
    assert count_params(layer, regularizable=True) == weights
    assert count_params(layer, trainable=True) == weights + biases + (inits if learn_init else 0)
    assert count_params(layer, trainable=False) == (0 if learn_init else inits)
    assert count_params(layer, regularizable=False) == biases + inits


def test_parameter_names_and_attributes():
    l_in = InputLayer((None, None, 3))
    lstm = LSTMLayer(l_in, 2, name="lstm")
    gates = ("ingate", "forgetgate", "cell", "outgate")
    expected = [f"lstm.{w}_{g}" for g in gates for w in ("W_in_to", "W_hid_to", "b")]
    expected += [f"lstm.W_cell_to_{g}" for g in ("ingate", "forgetgate", "outgate")]
    assert [p.name for p in lstm.get_params()] == expected + ["lstm.cell_init", "lstm.hid_init"]
    assert lstm.W_in_to_cell.get_value().shape == (3, 2)
    assert lstm.W_cell_to_outgate.get_value().shape == (2,)
    assert lstm.nonlinearity_cell is nonlinearities.tanh
    assert lstm.nonlinearity_ingate is nonlinearities.sigmoid
    assert not hasattr(LSTMLayer(l_in, 2, peepholes=False), "W_cell_to_ingate")
    gru = GRULayer(l_in, 2)
    assert [p.name for p in gru.get_params()][-1] == "hid_init"
    assert gru.W_hid_to_hidden_update.get_value().shape == (2, 2)
    assert gru.nonlinearity_hid is nonlinearities.tanh
    rnn = RecurrentLayer(l_in, 2, W_hid_to_hid=init.Constant(0.5), name="rnn")
    assert [p.name for p in rnn.get_params()] == [    # Lasagne's names, from the sub-layers
        "rnn.hid_init", "rnn.input_to_hidden.W", "rnn.input_to_hidden.b", "rnn.hidden_to_hidden.W"]
    assert (rnn.input_to_hidden.name, rnn.hidden_to_hidden.name) == ("rnn.input_to_hidden",
                                                                     "rnn.hidden_to_hidden")
    assert [p.name for p in RecurrentLayer(l_in, 2).get_params()][1:] == [
        "input_to_hidden.W", "input_to_hidden.b", "hidden_to_hidden.W"]
    np.testing.assert_array_equal(rnn.W_hid_to_hid.get_value(), np.full((2, 2), 0.5))
    assert rnn.num_units == 2 and rnn.nonlinearity is nonlinearities.rectify
    given = pytensor.shared(np.zeros((3, 2), dtype=pytensor.config.floatX), name="mine")
    assert RecurrentLayer(l_in, 2, W_in_to_hid=given, b=None).W_in_to_hid is given
    assert given.name == "mine"
    # A hid_init array is used as given and is trainable only with learn_init.
    l_learn = GRULayer(l_in, 2, hid_init=np.ones((1, 2)), learn_init=True)
    np.testing.assert_array_equal(l_learn.hid_init.get_value(), np.ones((1, 2)))
    assert l_learn.hid_init in l_learn.get_params(trainable=True)
    assert l_learn.hid_init not in l_learn.get_params(regularizable=True)


def test_initial_states_and_mask_as_layers_are_incomings():
    l_in, l_mask = InputLayer((None, None, 3)), InputLayer((None, None))
    l_h, l_c = InputLayer((None, 2)), InputLayer((None, 2))
    layer = LSTMLayer(l_in, 2, mask_input=l_mask, hid_init=l_h, cell_init=l_c)
    assert layer.input_layers == [l_in, l_mask, l_h, l_c]
    assert (layer.mask_incoming_index, layer.hid_init_incoming_index,
            layer.cell_init_incoming_index) == (1, 2, 3)
    assert layer.hid_init is l_h and layer.cell_init is l_c
    assert count_params(layer) == 4 * (3 * 2 + 2 * 2 + 2) + 3 * 2  # no initial-state params
    assert get_all_params(layer) == layer.get_params()


def _custom(incoming, in_shape=(None, 3), in_units=2, hid_shape=(None, 2), hid_units=2, **kw):
    return CustomRecurrentLayer(incoming, DenseLayer(InputLayer(in_shape), in_units),
                                DenseLayer(InputLayer(hid_shape), hid_units), **kw)


@pytest.mark.parametrize("build, error, match", [
    (lambda l: RecurrentLayer(l, 2, unroll_scan=True), ValueError, "sequence length"),
    (lambda l: LSTMLayer(InputLayer((None, 4, 3)), 2, unroll_scan=True, gradient_steps=2),
     ValueError, "gradient_steps=2"),
    (lambda l: GRULayer(l, 2, gradient_steps=0), ValueError, "gradient_steps=0"),
    (lambda l: GRULayer(l, 2, gradient_steps=1.5), ValueError, "gradient_steps=1.5"),
    (lambda l: GRULayer(l, 2, grad_clipping=-1), ValueError, "grad_clipping=-1"),
    (lambda l: GRULayer(l, 0), ValueError, "num_units=0"),
    (lambda l: LSTMLayer(l, 2.5), ValueError, "num_units=2.5"),
    (lambda l: GRULayer(InputLayer((None, 3)), 2), ValueError, "at least 3"),
    (lambda l: RecurrentLayer(InputLayer((None, 3)), 2), ValueError, "at least 3"),
    (lambda l: GRULayer(InputLayer((None, None, None)), 2), ValueError, "feature shape"),
    (lambda l: LSTMLayer(l, 2, ingate=Gate(W_cell=None)), ValueError, "ingate.W_cell=None"),
    (lambda l: LSTMLayer(l, 2, outgate="sigmoid"), TypeError, "outgate"),
    (lambda l: LSTMLayer(l, 2, cell_init=None), ValueError, "cell_init=None"),
    (lambda l: GRULayer(l, 2, hid_init=None), ValueError, "hid_init=None"),
    (lambda l: GRULayer(l, 2, hid_init=np.zeros((2,))), ValueError, "hid_init"),
    (lambda l: GRULayer(l, 2, hid_init=InputLayer((None, 3))), ValueError, "hid_init layer"),
    (lambda l: GRULayer(l, 2, mask_input=InputLayer((None, None, 1))), ValueError, "mask_input"),
    (lambda l: GRULayer(l, 2, mask_input=np.ones((2, 2))), TypeError, "mask_input"),
    (lambda l: CustomRecurrentLayer(l, "dense", DenseLayer(InputLayer((None, 2)), 2)),
     TypeError, "input_to_hidden"),
    (lambda l: _custom(l, hid_units=3), ValueError, "must equal its input shape"),
    (lambda l: _custom(l, in_shape=(None, 4)), ValueError, "does not match the features"),
    (lambda l: _custom(l, in_units=3), ValueError, "equal after the first dimension"),
    (lambda l: _custom(InputLayer((2, 5, 3)), in_shape=(7, 3)), ValueError, "batch\\*time"),
    (lambda l: _custom(l, in_shape=(7, 3), hid_shape=(5, 2), precompute_input=False),
     ValueError, "same batch size"),
])
def test_invalid_arguments_raise(build, error, match):
    with pytest.raises(error, match=match):
        build(InputLayer((None, None, 3)))


# ------------------------------------------------------------------ edge cases and options
def test_one_unit_and_batch_of_one(float64):
    """num_units=1 makes parameters broadcastable and batch 1 the input: both must work."""
    rng = np.random.default_rng(11)
    l_in = InputLayer((1, T, 2))  # a static batch size of 1
    kinds = {"elman": RecurrentLayer(l_in, 1, nonlinearity=nonlinearities.tanh),
             "gru": GRULayer(l_in, 1), "lstm": LSTMLayer(l_in, 1),
             "lstm_nopeep": LSTMLayer(l_in, 1, peepholes=False, backwards=True)}
    for layer in kinds.values():
        for p in layer.get_params(trainable=True):
            p.set_value(rng.normal(0, 0.5, p.get_value().shape))
    outs = get_output(list(kinds.values()))
    grads = pytensor.grad(sum(o.sum() for o in outs), l_in.input_var)
    fn = pytensor.function([l_in.input_var], outs + [grads])
    x = rng.normal(size=(1, T, 2))
    *values, grad = fn(x)
    for (kind, layer), out in zip(kinds.items(), values):
        states = (np.zeros((1, 1)),) * (2 if kind.startswith("lstm") else 1)
        expected, _ = numpy_recurrence(numpy_step(kind, layer), x, states,
                                       backwards=layer.backwards)
        assert out.shape == (1, T, 1)
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert grad.shape == x.shape and np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_grad_clipping_bounds_the_gradients(float64):
    clip, scale = 0.01, 1000.0
    l_in = InputLayer((None, None, 2))
    linear = RecurrentLayer(l_in, 3, W_hid_to_hid=init.Constant(0.), nonlinearity=None,
                            grad_clipping=clip)
    gated = [LSTMLayer(l_in, 3, grad_clipping=clip), GRULayer(l_in, 3, grad_clipping=clip)]
    # Biases and hidden weights: |h| < 1 for LSTM and GRU, so their gradients obey the bound too.
    checked = [linear.b] + [getattr(layer, f"{w}_{g}") for layer in gated for g in layer._GATES
                           for w in ("b", "W_hid_to")]
    clipped = [scale * get_output(layer).sum() for layer in [linear] + gated]
    fn = pytensor.function([l_in.input_var], clipped + pytensor.grad(sum(clipped), checked))
    batch, time = 2, 4
    out = fn(np.random.default_rng(2).normal(size=(batch, time, 2)))
    costs, grads = out[:3], out[3:]
    bound = batch * time * clip  # each step clips each pre-activation's gradient to [-c, c]
    # The linear layer's pre-activation gradient is `scale` at every step: clipped to exactly c.
    np.testing.assert_allclose(grads[0], np.full(3, bound), rtol=1e-12)
    # Unclipped, the gated layers' gradients here exceed the bound more than tenfold.
    for param, grad in zip(checked[1:], grads[1:]):
        assert np.all(np.abs(grad) <= bound + 1e-12), param.name
    assert np.all(np.isfinite(costs))


class _Scale(DenseLayer):
    """A dense layer that reads the ``deterministic`` keyword (to test kwarg forwarding)."""

    def get_output_for(self, input, deterministic=False, **kwargs):
        return super().get_output_for(input) * (1.0 if deterministic else 2.0)


def test_custom_layer_forwards_get_output_keywords():
    l_in = InputLayer((None, 2, 1))
    in_to_hid = _Scale(InputLayer((None, 1)), 1, W=np.ones((1, 1)), b=None, nonlinearity=None)
    hid_to_hid = DenseLayer(InputLayer((None, 1)), 1, W=np.ones((1, 1)), b=None,
                            nonlinearity=None)
    layer = CustomRecurrentLayer(l_in, in_to_hid, hid_to_hid, nonlinearity=None,
                                 unroll_scan=True)
    assert "deterministic" in layer.get_output_kwargs
    x = np.ones((1, 2, 1), dtype=pytensor.config.floatX)
    both = get_output(layer, x, deterministic=True), get_output(layer, x)  # no warning
    det, train = pytensor.function([], list(both))()
    np.testing.assert_allclose(det[0, :, 0], [1, 2])
    np.testing.assert_allclose(train[0, :, 0], [2, 4])


# ------------------------------------------------------------------ compile cache
@pytest.mark.parametrize("layer_class", [RecurrentLayer, LSTMLayer, GRULayer])
def test_the_compiled_graph_does_not_depend_on_the_width(layer_class):
    """Two widths rewrite to graphs with one Numba cache key (sizes are not constants in the
    graph), so a grid over the width compiles once."""
    from pytensor.compile.mode import Mode, get_mode
    from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key

    from rnnlab.nn.ops import prepare

    prepare()
    keys = []
    for units in (4, 6):
        l_in = InputLayer((None, None, 3))
        layer = layer_class(l_in, units)
        loss = get_output(layer).sum()
        params = get_all_params(layer, trainable=True)
        f = pytensor.function([l_in.input_var], [loss] + pytensor.grad(loss, params),
                              mode=Mode(linker="py", optimizer=get_mode("NUMBA").optimizer))
        keys.append(numba_funcify_and_cache_key(f.maker.fgraph)[1])
    assert keys[0] is not None and keys[0] == keys[1]
