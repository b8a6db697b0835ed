"""Tests for rnnlab.model.networks: layer stacks, shapes, carried-state inputs, stable parameter names.

Nothing here compiles a scan graph; compiled behaviour is tested in tests/model/test_compile.py.
"""

import numpy as np
import pytensor
import pytest

from rnnlab.config import CHOICES, ModelConfig
from rnnlab.model.networks import CELLS, Network, build_char_lm, build_forecaster
from rnnlab.nn import nonlinearities, random as nn_random
from rnnlab.nn.layers import (BaseRecurrentLayer, DropoutLayer, EmbeddingLayer, count_params,
                              get_all_layers, get_all_params, get_output)

VOCAB = 7


def model_cfg(**changes):
    return ModelConfig(**{"cell": "lstm", "hidden": 6, **changes})


def names(net):
    return [p.name for p in get_all_params(net.output, trainable=True)]


# Trainable scalars of one recurrent layer with F inputs and H units (no peepholes).
PER_LAYER = {"elman": lambda f, h: f * h + h * h + h,
             "lstm": lambda f, h: 4 * (f * h + h * h + h),
             "gru": lambda f, h: 3 * (f * h + h * h + h)}


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("embedding", [0, 3])
def test_char_lm_shapes_states_and_parameter_count(cell, embedding):
    net = build_char_lm(model_cfg(cell=cell, layers=2, embedding=embedding), VOCAB)
    assert isinstance(net, Network)
    assert net.inputs.output_shape == (None, None)
    assert net.inputs.input_var.dtype == "int32"
    assert net.output.output_shape == (None, None, VOCAB)
    assert [layer.name for layer in net.recurrent] == ["rec0", "rec1"]
    assert all(isinstance(layer, BaseRecurrentLayer) for layer in net.recurrent)
    expected_keys = [(layer, key) for layer in net.recurrent for key in CELLS[cell].states]
    assert net.state_keys == expected_keys
    assert [l.output_shape for l in net.state_inputs] == [(None, 6)] * len(expected_keys)
    for (layer, key), l_state in zip(net.state_keys, net.state_inputs):
        assert getattr(layer, f"{key}_init") is l_state   # the state input feeds that layer
    features = embedding or VOCAB
    expected = (PER_LAYER[cell](features, 6) + PER_LAYER[cell](6, 6) + 6 * VOCAB + VOCAB
                + VOCAB * embedding)
    assert count_params(net.output, trainable=True) == expected
    has_embed = any(isinstance(l, EmbeddingLayer) for l in get_all_layers(net.output))
    assert has_embed == (embedding > 0)


def test_one_hot_input_encodes_ids():
    net = build_char_lm(model_cfg(), VOCAB)
    l_onehot = net.recurrent[0].input_layers[0]
    ids = np.array([[0, 6, 2]], dtype="int32")
    encoded = get_output(l_onehot, ids).eval()
    assert l_onehot.output_shape == (None, None, VOCAB)
    np.testing.assert_array_equal(encoded, np.eye(VOCAB)[ids])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_forecaster_shapes_and_no_carried_state(cell):
    net = build_forecaster(model_cfg(cell=cell, layers=2), lookback=5, n_features=3, horizon=4,
                           n_targets=2)
    assert net.inputs.output_shape == (None, 5, 3)
    assert net.output.output_shape == (None, 4, 2)
    assert (net.state_inputs, net.state_keys) == ([], [])
    assert [l.only_return_final for l in net.recurrent] == [False, True]
    expected = PER_LAYER[cell](3, 6) + PER_LAYER[cell](6, 6) + 6 * 8 + 8
    assert count_params(net.output, trainable=True) == expected


def test_cells_use_documented_nonlinearities_and_initialisation():
    elman, lstm, gru = (build_char_lm(model_cfg(cell=c, hidden=5), VOCAB).recurrent[0]
                        for c in ("elman", "lstm", "gru"))
    assert elman.nonlinearity is nonlinearities.tanh
    for w in (elman.W_hid_to_hid, lstm.W_hid_to_cell, gru.W_hid_to_updategate):
        w = w.get_value()   # orthogonal recurrent weights
        np.testing.assert_allclose(w @ w.T, np.eye(5), atol=1e-5)
    assert not lstm.peepholes
    np.testing.assert_array_equal(lstm.b_forgetgate.get_value(), np.ones(5))
    for gate in ("ingate", "cell", "outgate"):
        np.testing.assert_array_equal(getattr(lstm, f"b_{gate}").get_value(), np.zeros(5))
    assert lstm.nonlinearity_cell is nonlinearities.tanh
    assert gru.nonlinearity_hid is nonlinearities.tanh


def test_recurrent_options_reach_every_layer():
    net = build_char_lm(model_cfg(cell="gru", layers=3, grad_clipping=2.5, gradient_steps=4),
                        VOCAB)
    assert [(l.grad_clipping, l.gradient_steps) for l in net.recurrent] == [(2.5, 4)] * 3


def test_dropout_follows_each_recurrent_layer_only_when_asked():
    net = build_char_lm(model_cfg(layers=2, dropout=0.25), VOCAB)
    drops = [l for l in get_all_layers(net.output) if isinstance(l, DropoutLayer)]
    assert [(l.name, l.p, l.input_layer.name) for l in drops] == [("drop0", 0.25, "rec0"),
                                                                ("drop1", 0.25, "rec1")]
    assert net.output.input_layer is drops[-1]
    plain = build_char_lm(model_cfg(layers=2), VOCAB)
    assert not any(isinstance(l, DropoutLayer) for l in get_all_layers(plain.output))


def test_parameter_names_are_fixed_unique_and_stable():
    cfg = model_cfg(cell="lstm", layers=2, embedding=4)
    old = nn_random.get_rng()
    try:
        nn_random.set_rng(np.random.RandomState(3))
        first = build_char_lm(cfg, VOCAB)
        nn_random.set_rng(np.random.RandomState(3))
        second = build_char_lm(cfg, VOCAB)
    finally:
        nn_random.set_rng(old)
    assert names(first) == names(second)
    assert len(set(names(first))) == len(names(first))
    assert names(first)[0] == "embed.W" and names(first)[-2:] == ["out.W", "out.b"]
    assert "rec0.W_in_to_ingate" in names(first) and "rec1.W_hid_to_forgetgate" in names(first)
    for a, b in zip(get_all_params(first.output), get_all_params(second.output)):
        np.testing.assert_array_equal(a.get_value(), b.get_value())   # same seed, same values
    for cell in ("elman", "gru"):
        net_names = names(build_forecaster(model_cfg(cell=cell, layers=2), 3, 1, 2, 1))
        assert len(set(net_names)) == len(net_names)
        assert all(n.split(".")[0] in ("rec0", "rec1", "out") for n in net_names)


def test_float_inputs_follow_floatx():
    net = build_forecaster(model_cfg(), 3, 2, 1, 1)
    assert net.inputs.input_var.dtype == pytensor.config.floatX


def test_cells_match_the_config_choices():
    assert sorted(CELLS) == sorted(CHOICES["model.cell"])


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"expected the config's model section \(rnnlab\.config"):
        build_forecaster({"cell": "lstm", "hidden": 6}, 3, 1, 1, 1)
    with pytest.raises(ValueError, match="vocab_size=0"):
        build_char_lm(model_cfg(), 0)
    with pytest.raises(ValueError, match="horizon=0"):
        build_forecaster(model_cfg(), 3, 1, 0, 1)
    with pytest.raises(TypeError, match="model_cfg"):
        build_char_lm([("cell", "lstm")], VOCAB)
