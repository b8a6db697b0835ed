"""Tests of rnnlab.nn.layers.recurrence: the recurrence ``recur`` and ``BaseRecurrentLayer``.

The layer-level properties (backwards, masks, unroll, precompute, truncation, final states) are
tested for every layer kind in test_recurrent.py; here ``recur`` is run with a cell whose result
has a closed form (a running sum), and the layer plumbing is checked without compiling.
"""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors
from pytensor.scan.op import Scan

from rnnlab.nn.layers import (BaseRecurrentLayer, DenseLayer, ElmanCell, Gate, GRULayer, InputLayer,
                              LSTMLayer, RecurrentLayer, get_output, recur)
from rnnlab.nn.ops.recurrence import FusedRecurrence


def running_sum():
    """``h_t = h_{t-1} + 2 x_t`` (``project`` doubles the input, so precomputing matters)."""
    return ElmanCell(lambda x: 2 * x, lambda h: h)


def test_recur_matches_closed_form_for_every_option():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    mask = np.array([[1, 0, 1, 1], [1, 1, 0, 0]], dtype=float)
    x_var, m_var = pt.tensor3("x", dtype="float64"), pt.matrix("m", dtype="float64")
    h0 = pt.zeros((x_var.shape[0], 3), dtype="float64")
    options = {"scan": {}, "unroll": {"unroll_scan": True, "n_steps": 4},
               "no_precompute": {"precompute_input": False},
               "unroll_no_precompute": {"unroll_scan": True, "n_steps": 4,
                                        "precompute_input": False}}
    outs, keys = [], []
    for name, kwargs in options.items():
        for backwards in (False, True):
            out, final = recur(running_sum(), x_var, {"hid": h0}, mask=m_var, backwards=backwards,
                               **kwargs)
            only, _ = recur(running_sum(), x_var, {"hid": h0}, mask=m_var, backwards=backwards,
                            only_return_final=True, **kwargs)
            keys.append((name, backwards))
            outs += [out["hid"], final["hid"], only["hid"]]
    values = pytensor.function([x_var, m_var], outs)(x, mask)
    kept = 2 * x * mask[:, :, None]
    expected = {False: np.cumsum(kept, axis=1), True: np.cumsum(kept[:, ::-1], axis=1)[:, ::-1]}
    for i, (name, backwards) in enumerate(keys):
        out, final, only = values[3 * i:3 * i + 3]
        np.testing.assert_allclose(out, expected[backwards], rtol=1e-12, err_msg=name)
        last = expected[backwards][:, 0 if backwards else -1]
        np.testing.assert_allclose(final, last, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(only, last, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("kwargs, match", [
    ({"gradient_steps": 0}, "gradient_steps=0"),
    ({"gradient_steps": -2}, "gradient_steps=-2"),
    ({"gradient_steps": True}, "gradient_steps=True"),
    ({"unroll_scan": True}, "sequence length"),
    ({"unroll_scan": True, "n_steps": 3, "gradient_steps": 2}, "needs gradient_steps=-1"),
    ({"init_states": {"cell": pt.zeros((2, 3))}}, "init_states has keys"),
    ({"input": pt.matrix("x")}, "at least 3"),
    ({"mask": pt.tensor3("m")}, "mask has 3 dimensions"),
])
def test_recur_rejects_invalid_options(kwargs, match):
    arguments = {"input": pt.tensor3("x"), "init_states": {"hid": pt.zeros((2, 3))}}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        recur(running_sum(), **arguments)


def test_unrolled_length_is_checked_at_run_time():
    x = pt.tensor3("x", dtype="float64")
    out, _ = recur(running_sum(), x, {"hid": pt.zeros((1, 1), dtype="float64")},
                   unroll_scan=True, n_steps=3)
    fn = pytensor.function([x], out["hid"])
    assert fn(np.ones((1, 3, 1))).shape == (1, 3, 1)
    with pytest.raises(AssertionError):
        fn(np.ones((1, 4, 1)))


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("layer_class", [RecurrentLayer, GRULayer, LSTMLayer])
def test_final_states_come_from_the_same_loop(layer_class, fused):
    loop = FusedRecurrence if fused else Scan
    # A nonlinearity equal to tanh but not rnnlab's own has no kernel: the layer runs in scan.
    tanh = lambda x: pt.tanh(x)  # noqa: E731
    kwargs = {} if fused else (
        {"hidden_update": Gate(W_cell=None, nonlinearity=tanh)} if layer_class is GRULayer
        else {"nonlinearity": tanh})
    layer = layer_class(InputLayer((None, None, 3)), 2, **kwargs)
    states = {}
    out = get_output(layer, final_states=states)
    assert list(states) == [layer]
    graph = [out] + list(states[layer].values())
    loops = {v.owner for v in ancestors(graph) if v.owner and isinstance(v.owner.op, loop)}
    assert len(loops) == 1


def test_final_states_keyword_is_recognised_by_get_output():
    l_in = InputLayer((None, None, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_output(GRULayer(l_in, 2), final_states={})  # no "unused kwargs" warning
    with pytest.warns(UserWarning, match="final_states"):
        get_output(DenseLayer(InputLayer((None, 3)), 2), final_states={})


class RunningSum(BaseRecurrentLayer):
    def __init__(self, incoming, **kwargs):
        super().__init__(incoming, **kwargs)
        self.add_initial_states(self.input_shapes[0][2:])

    def make_cell(self, **kwargs):
        return running_sum()


def test_base_layer_shapes_parameters_and_errors():
    l_in = InputLayer((None, 7, 3))
    layer = RunningSum(l_in, learn_init=True, name="sum")
    assert layer.output_shape == (None, 7, 3) and layer.state_shape == (3,)
    assert [p.name for p in layer.get_params(trainable=True)] == ["sum.hid_init"]
    assert layer.get_params(regularizable=True) == []
    assert RunningSum(l_in, only_return_final=True).output_shape == (None, 3)
    with pytest.raises(ValueError, match="hid_init layer output shape"):
        RunningSum(l_in, hid_init=InputLayer((None, 4)))

    class NoCell(BaseRecurrentLayer):
        pass
    with pytest.raises(NotImplementedError, match="NoCell does not define make_cell"):
        get_output(NoCell(l_in))
