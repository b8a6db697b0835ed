"""Tests of rnnlab.nn.layers.helper: graph walks, outputs, shapes and parameter values."""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import graph_inputs

from rnnlab.nn.layers import (ConcatLayer, DenseLayer, DropoutLayer, ElemwiseSumLayer, InputLayer,
                              Layer, count_params, get_all_layers, get_all_param_values,
                              get_all_params, get_output, get_output_shape, set_all_param_values)

floatX = pytensor.config.floatX


@pytest.fixture
def diamond():
    """in -> (a, b) -> sum -> out, with a third branch c feeding out directly."""
    l_in = InputLayer((None, 4), name="in")
    a = DenseLayer(l_in, 3, name="a")
    b = DenseLayer(l_in, 3, name="b", nonlinearity=None)
    merge = ElemwiseSumLayer([a, b], name="sum")
    c = DenseLayer(l_in, 2, name="c", b=None)
    out = ConcatLayer([merge, c], name="out")
    return dict(l_in=l_in, a=a, b=b, merge=merge, c=c, out=out)


def test_get_all_layers_orders_by_dependency(diamond):
    d = diamond
    order = get_all_layers(d["out"])
    assert order == [d["l_in"], d["a"], d["b"], d["merge"], d["c"], d["out"]]
    # Every layer appears once and after all of its inputs.
    for i, layer in enumerate(order):
        parents = getattr(layer, "input_layers", [getattr(layer, "input_layer", None)])
        assert all(p is None or order.index(p) < i for p in parents)
    assert get_all_layers([d["c"], d["a"]]) == [d["l_in"], d["c"], d["a"]]
    assert get_all_layers([d["out"], d["a"]]) == order
    assert get_all_layers(d["out"], treat_as_input=[d["merge"]]) == [d["merge"], d["l_in"],
                                                                     d["c"], d["out"]]


def test_get_output_with_input_vars_expressions_arrays_and_dicts(diamond):
    d = diamond
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4)).astype(floatX)
    default = get_output(d["out"])
    fn = pytensor.function([d["l_in"].input_var], default)
    y = fn(x)
    # numpy reference of the same network
    Wa, ba, Wb, bb, Wc = get_all_param_values(d["out"])
    expected = np.concatenate([np.maximum(x @ Wa + ba, 0) + x @ Wb + bb,
                               np.maximum(x @ Wc, 0)], axis=1)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert y.shape == get_output_shape(d["out"], x.shape)

    other = pt.matrix("other")
    substituted = get_output(d["out"], other)
    assert other in graph_inputs([substituted])
    assert d["l_in"].input_var not in graph_inputs([substituted])

    from_array, merged = get_output([d["out"], d["merge"]], x)
    merge_in = pt.matrix("m")
    from_dict = get_output(d["out"], {d["merge"]: merge_in, d["l_in"]: x})
    values = pytensor.function([merge_in], [from_array, merged, from_dict])(np.ones((5, 3), floatX))
    np.testing.assert_allclose(values[0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values[1], expected[:, :3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values[2], np.concatenate([np.ones((5, 3)), expected[:, 3:]], 1),
                               rtol=1e-5, atol=1e-6)


def test_get_output_errors():
    a, b = InputLayer((None, 2)), InputLayer((None, 2))
    with pytest.raises(ValueError, match="2 input layers"):
        get_output(ElemwiseSumLayer([a, b]), np.ones((1, 2)))
    floating = DenseLayer((None, 2), 3)  # built from a shape: no input layer
    with pytest.raises(ValueError, match="free-floating"):
        get_output(floating)
    assert get_output(floating, {floating: pt.matrix()}).ndim == 2


def test_unused_kwargs_warn_with_a_hint():
    l_drop = DropoutLayer(DenseLayer(InputLayer((None, 3)), 2))
    with pytest.warns(UserWarning, match="deterministc \\(did you mean 'deterministic'\\?\\)"):
        get_output(l_drop, deterministc=True)
    with pytest.warns(UserWarning, match="unused kwargs: bogus$"):
        get_output(l_drop, bogus=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_output(l_drop, deterministic=True)  # accepted: DropoutLayer.get_output_for names it


def test_deterministic_is_accepted_by_networks_without_noise_layers():
    l_dense = DenseLayer(InputLayer((None, 3)), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_output(l_dense, deterministic=True)
    with pytest.warns(UserWarning, match="did you mean 'deterministic'"):
        get_output(l_dense, deterministc=True)


def test_custom_layers_declare_extra_kwargs():
    class Flexible(Layer):
        def __init__(self, incoming):
            super().__init__(incoming)
            self.get_output_kwargs = ["scale"]

        def get_output_for(self, input, **kwargs):
            return input * kwargs.get("scale", 1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_output(Flexible(InputLayer((None, 2))), np.ones((1, 2)), scale=3).eval()[0, 0] \
            == 3


def test_get_output_shape(diamond):
    d = diamond
    assert get_output_shape(d["out"]) == (None, 5)
    assert get_output_shape(d["out"], (7, 4)) == (7, 5)
    assert get_output_shape([d["out"], d["c"]], (7, 4)) == [(7, 5), (7, 2)]
    assert get_output_shape(d["out"], {d["merge"]: (None, 7)}) == (None, 9)
    assert get_output_shape(d["out"], {d["merge"]: (None, 7), d["l_in"]: (2, 4)}) == (2, 9)
    a, b = InputLayer((None, 2)), InputLayer((None, 2))
    with pytest.raises(ValueError, match="2 input layers"):
        get_output_shape(ElemwiseSumLayer([a, b]), (3, 2))


def test_get_all_params_and_counts(diamond):
    d = diamond
    names = [p.name for p in get_all_params(d["out"])]
    assert names == ["a.W", "a.b", "b.W", "b.b", "c.W"]
    assert [p.name for p in get_all_params(d["out"], regularizable=True)] == ["a.W", "b.W", "c.W"]
    assert [p.name for p in get_all_params(d["out"], regularizable=False)] == ["a.b", "b.b"]
    assert get_all_params(d["out"], trainable=False) == []
    assert count_params(d["out"]) == 2 * (4 * 3 + 3) + 4 * 2
    assert count_params(d["out"], regularizable=True) == 2 * 12 + 8
    # A parameter shared by two layers is listed once.
    tied = DenseLayer(d["a"], 3, W=d["a"].W.get_value()[:3], name="tied")
    shared = DenseLayer(tied, 3, W=tied.W, name="shared")
    assert [p.name for p in get_all_params(shared)] == ["a.W", "a.b", "tied.W", "tied.b",
                                                        "shared.b"]


def test_get_and_set_all_param_values(diamond):
    d = diamond
    values = get_all_param_values(d["out"])
    assert [v.shape for v in values] == [(4, 3), (3,), (4, 3), (3,), (4, 2)]
    new = [np.full(v.shape, i, dtype=np.float64) for i, v in enumerate(values)]
    set_all_param_values(d["out"], new)
    for got, want in zip(get_all_param_values(d["out"]), new):
        assert got.dtype == floatX
        np.testing.assert_array_equal(got, want)
    set_all_param_values(d["out"], [np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 2))],
                         regularizable=True)
    assert [float(v.sum()) for v in get_all_param_values(d["out"])] == [0, 3, 0, 9, 0]
    with pytest.raises(ValueError, match="got 4 values to set 5"):
        set_all_param_values(d["out"], new[:4])
    with pytest.raises(ValueError, match="shape"):
        set_all_param_values(d["out"], new[:4] + [np.zeros((2, 4))])


def test_duck_typed_layers_and_iterables_walk_as_in_lasagne():
    """Lasagne finds incoming layers by attribute and takes any iterable of layers."""
    from rnnlab.nn.layers import DenseLayer, InputLayer, get_all_layers, get_output

    class Doubler:                       # no Layer subclass: only what Lasagne's helpers use
        def __init__(self, incoming):
            self.input_layer, self.output_shape = incoming, incoming.output_shape
            self.get_output_kwargs = []

        def get_output_for(self, input, **kwargs):
            return 2 * input

    l_in = InputLayer((None, 2))
    duck = Doubler(l_in)
    assert get_all_layers(duck) == [l_in, duck]
    x = np.ones((1, 2), l_in.input_var.dtype)
    assert get_output(duck).eval({l_in.input_var: x}).tolist() == [[2.0, 2.0]]
    l_out = DenseLayer(l_in, 3)
    outs = get_output(layer for layer in (duck, l_out))        # a generator of layers
    assert isinstance(outs, list) and len(outs) == 2


def test_get_output_errors_are_the_intended_ones():
    from rnnlab.nn.layers import InputLayer, Layer, get_output

    class Unfinished(Layer):             # no get_output_shape_for: its repr must still work
        def get_output_shape_for(self, input_shape):
            raise NotImplementedError

    free = Unfinished(InputLayer((None, 2)))
    free.input_layer = None              # free-floating: no input to take
    with pytest.raises(ValueError, match="free-floating layer <Unfinished>"):
        get_output(free)
    l_in = InputLayer((None, 2))
    with pytest.raises(TypeError, match="key 'x' of type str"):
        get_output(l_in, {"x": np.zeros((1, 2))})
