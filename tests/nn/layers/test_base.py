"""Tests of rnnlab.nn.layers.base (Layer, MergeLayer) and input.InputLayer."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import init
from rnnlab.nn.layers import InputLayer, Layer, MergeLayer


class Doubler(Layer):
    def get_output_for(self, input, **kwargs):
        return 2 * input


@pytest.mark.parametrize("shape", [(None, 0), (3, -1), (0,)])
def test_layers_reject_non_positive_shapes(shape):
    with pytest.raises(ValueError, match="non-positive"):
        Doubler(shape)
    with pytest.raises(ValueError, match="non-positive"):
        MergeLayer([(None, 3), shape])
    with pytest.raises(ValueError, match="positive"):
        InputLayer(shape)


def test_input_layer_variables():
    l_in = InputLayer((None, 1, 4), name="x")
    assert l_in.input_var.name == "x.input"
    assert l_in.input_var.type.shape == (None, 1, None)
    assert l_in.input_var.dtype == pytensor.config.floatX
    assert l_in.output_shape == (None, 1, 4) and l_in.get_params() == []
    with pytest.raises(ValueError, match="dimensions"):
        InputLayer((None, 3), input_var=pt.tensor3())


def test_layer_defaults():
    l_in = InputLayer((None, 3))
    layer = Doubler(l_in, name="double")
    assert layer.input_layer is l_in and layer.input_shape == (None, 3)
    assert layer.output_shape == (None, 3)  # identity by default
    assert repr(layer) == "<Doubler 'double' (None, 3)>"
    assert Doubler((5, 2)).input_layer is None
    with pytest.raises(NotImplementedError):
        Layer(l_in).get_output_for(l_in.input_var)
    with pytest.raises(NotImplementedError):
        MergeLayer([l_in, l_in]).output_shape


def test_output_shape_must_not_be_symbolic():
    class Symbolic(Layer):
        def get_output_shape_for(self, input_shape):
            return (pt.iscalar(), 3)

    with pytest.raises(ValueError, match="symbolic"):
        Symbolic((None, 3)).output_shape


def test_add_param_names_and_tags():
    named, anonymous = Doubler((None, 3), name="lay"), Doubler((None, 3))
    W = named.add_param(init.Constant(1.0), (3, 2), name="W")
    b = named.add_param(np.zeros(2), (2,), name="b", regularizable=False)
    g = named.add_param(init.Constant(0.0), (2,), name="g", trainable=False, custom=True)
    assert [p.name for p in (W, b, g)] == ["lay.W", "lay.b", "lay.g"]
    assert anonymous.add_param(init.Constant(0.0), (2,), name="W").name == "W"
    assert named.params[W] == {"trainable", "regularizable"}
    assert named.params[g] == {"regularizable", "custom"}
    assert named.get_params() == [W, b, g]
    assert named.get_params(trainable=True) == [W, b]
    assert named.get_params(regularizable=False) == [b]
    assert named.get_params(custom=True) == [g]
    assert named.get_params(trainable=True, regularizable=True) == [W]
    with pytest.raises(ValueError, match="shape"):
        named.add_param(np.zeros(3), (2,), name="bad")


def test_add_param_accepts_shared_variables_and_expressions():
    layer = Doubler((None, 3))
    shared = pytensor.shared(np.ones((3, 2)), name="given")
    assert layer.add_param(shared, (3, 2), name="W") is shared
    assert shared.name == "given"  # a given name is kept
    base = pytensor.shared(np.ones(2), name="base")
    expr = layer.add_param(2 * base, (2,), name="b")
    assert layer.get_params() == [shared, base]  # expressions are unwrapped ...
    assert layer.get_params(unwrap_shared=False) == [shared, expr]  # ... unless asked not to


def test_a_merge_layer_may_not_report_a_symbolic_shape_either():
    class Symbolic(MergeLayer):
        def get_output_shape_for(self, input_shapes):
            return (pt.iscalar(), 3)

    with pytest.raises(ValueError, match="Symbolic returned a symbolic output shape"):
        Symbolic([(None, 3), (None, 3)]).output_shape
