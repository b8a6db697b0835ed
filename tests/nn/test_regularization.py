"""Tests for rnnlab.nn.regularization: penalties and which parameters they cover."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import regularization as reg
from rnnlab.nn.layers import InputLayer, Layer
from rnnlab.nn.utils import floatX


class Affine(Layer):
    """A minimal layer with a regularizable weight and a non-regularizable bias."""

    def __init__(self, incoming, num_units, W, b, **kwargs):
        super().__init__(incoming, **kwargs)
        n_in = self.input_shape[1]
        self.W = self.add_param(floatX(W), (n_in, num_units), name="W")
        self.b = self.add_param(floatX(b), (num_units,), name="b", regularizable=False)
        self.num_units = num_units

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_units)

    def get_output_for(self, input, **kwargs):
        return pt.dot(input, self.W) + self.b


RNG = np.random.RandomState(3)
W1, B1 = RNG.normal(size=(3, 4)), RNG.normal(size=4)
W2, B2 = RNG.normal(size=(4, 2)), RNG.normal(size=2)


@pytest.fixture
def net():
    l_in = InputLayer((None, 3))
    l1 = Affine(l_in, 4, W1, B1, name="h")
    l2 = Affine(l1, 2, W2, B2, name="out")
    return l1, l2


def _eval(exprs):
    return pytensor.function([], list(exprs))()


def l1_np(*xs):
    return sum(np.abs(x).sum() for x in xs)


def l2_np(*xs):
    return sum((x ** 2).sum() for x in xs)


def test_penalties_and_helpers(net):
    l1, l2 = net
    results = _eval([
        reg.l1(l1.W), reg.l2(l1.W),
        reg.apply_penalty(l1.W, reg.l2),
        reg.apply_penalty([l1.W, l2.W, l2.b], reg.l1),
        reg.regularize_layer_params(l2, reg.l2),
        reg.regularize_layer_params([l1, l2], reg.l1),
        reg.regularize_layer_params(l2, reg.l2, tags={"regularizable": False}),
        reg.regularize_layer_params(l2, reg.l2, tags={"trainable": True}),
        reg.regularize_layer_params_weighted({l1: 0.1, l2: 2.0}, reg.l2),
        reg.regularize_network_params(l2, reg.l2),
        reg.regularize_network_params(l2, reg.l1, tags={}),
    ])
    expected = [
        l1_np(W1), l2_np(W1),
        l2_np(W1),
        l1_np(W1, W2, B2),
        l2_np(W2),  # only the layer's own regularizable parameter: W, not b, not the layer below
        l1_np(W1, W2),
        l2_np(B2),
        l2_np(W2, B2),
        0.1 * l2_np(W1) + 2.0 * l2_np(W2),
        l2_np(W1, W2),
        l1_np(W1, B1, W2, B2),
    ]
    for i, (got, want) in enumerate(zip(results, expected)):
        assert got.shape == ()
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"expression {i}")


def test_penalty_kwargs_are_forwarded(net):
    l1, _ = net

    def scaled_l2(x, scale):
        return scale * pt.sum(x ** 2)

    got = reg.regularize_layer_params(l1, scaled_l2, scale=3.0).eval()
    np.testing.assert_allclose(got, 3.0 * l2_np(W1), rtol=1e-5)


def test_l2_gradient_is_twice_the_weights(net):
    l1, _ = net
    grad = pytensor.grad(reg.regularize_network_params(l1, reg.l2), l1.W).eval()
    np.testing.assert_allclose(grad, 2 * W1, rtol=1e-5)


def test_empty_parameter_list_gives_zero():
    layer = InputLayer((None, 3))
    penalty = reg.regularize_network_params(layer, reg.l2)
    assert penalty == 0 and isinstance(penalty, int)          # Lasagne's sum([]) is the int 0
    assert reg.apply_penalty([], reg.l1) == 0
    assert reg.regularize_layer_params_weighted({}, reg.l2) == 0


@pytest.mark.parametrize("call", [
    lambda l: reg.apply_penalty(l.W, "l2"),
    lambda l: reg.regularize_layer_params([l, "x"], reg.l2),
    lambda l: reg.regularize_layer_params(l, reg.l2, tags="regularizable"),
    lambda l: reg.regularize_layer_params_weighted([l], reg.l2),
])
def test_bad_arguments(net, call):
    with pytest.raises(TypeError):
        call(net[0])
