"""Tests of rnnlab.nn.layers.rectifiers: parametric and randomized leaky rectifiers."""

import numpy as np
import pytensor
import pytest
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.type import RandomType

from rnnlab.nn import init, nonlinearities
from rnnlab.nn import random as nn_random
from rnnlab.nn.layers import DenseLayer, InputLayer, NonlinearityLayer, get_output
from rnnlab.nn.layers.rectifiers import (ParametricRectifierLayer, RandomizedRectifierLayer,
                                         prelu, rrelu)

floatX = pytensor.config.floatX


def leaky(x, slope):
    return np.where(x > 0, x, slope * x)


def test_module_exports():
    from rnnlab.nn.layers import rectifiers
    assert set(rectifiers.__all__) == {"ParametricRectifierLayer", "prelu",
                                       "RandomizedRectifierLayer", "rrelu"}


@pytest.mark.parametrize("input_shape, shared_axes, alpha_shape, normalized", [
    ((None, 3), "auto", (3,), (0,)),
    ((None, 3, 5, 7), "auto", (3,), (0, 2, 3)),
    ((20, 3, 28, 28), (0, 3), (3, 28), (0, 3)),
    ((None, 4, 5), "all", (), (0, 1, 2)),
    ((None, 4, 5), 0, (4, 5), (0,)),
    ((None, 4, 5), (0, -1), (4,), (0, 2)),
])
def test_prelu_alpha_shapes_and_tags(input_shape, shared_axes, alpha_shape, normalized):
    layer = ParametricRectifierLayer(input_shape, shared_axes=shared_axes, name="p")
    assert layer.alpha.get_value().shape == alpha_shape
    np.testing.assert_allclose(layer.alpha.get_value(), 0.25)
    assert layer.alpha.name == "p.alpha"
    assert layer.shared_axes == normalized
    assert layer.output_shape == input_shape
    assert layer.get_params() == [layer.alpha]
    assert layer.get_params(trainable=True) == [layer.alpha]
    assert layer.get_params(regularizable=True) == []


@pytest.mark.parametrize("input_shape, shared_axes", [
    ((None, None), "auto"), ((None, 3), 2), ((None, 3), "some"), ((None, 3), (0, 1.5)),
    ((None, 3), None),
])
def test_prelu_rejects_bad_shapes(input_shape, shared_axes):
    with pytest.raises(ValueError, match="ParametricRectifierLayer"):
        ParametricRectifierLayer(input_shape, shared_axes=shared_axes)


def test_prelu_values_and_gradient_match_numpy():
    rng = np.random.default_rng(0)
    x4 = rng.normal(size=(2, 3, 4, 5)).astype(floatX)
    x3 = rng.normal(size=(2, 3, 4)).astype(floatX)
    l_auto = ParametricRectifierLayer(InputLayer((None, 3, None, None)), alpha=init.Uniform(1))
    l_axes = ParametricRectifierLayer(InputLayer((None, 3, 4)), alpha=init.Uniform(1),
                                      shared_axes=0)
    l_all = ParametricRectifierLayer(InputLayer((None, 3, 4)), alpha=np.array(0.1),
                                     shared_axes="all")
    layers = [l_auto, l_axes, l_all]
    inputs = [l.input_layer.input_var for l in layers]
    outputs = get_output(layers)
    grad = pytensor.grad(outputs[0].sum(), l_auto.alpha)
    fn = pytensor.function(inputs, outputs + [grad])
    y_auto, y_axes, y_all, g = fn(x4, x3, x3)
    alpha = l_auto.alpha.get_value()
    np.testing.assert_allclose(y_auto, leaky(x4, alpha[None, :, None, None]), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(y_axes, leaky(x3, l_axes.alpha.get_value()[None]), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(y_all, leaky(x3, 0.1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g, np.minimum(x4, 0).sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert y_auto.dtype == floatX


def test_prelu_helper_strips_the_nonlinearity():
    l_in = InputLayer((None, 5))
    l_dense = DenseLayer(l_in, 4, nonlinearity=nonlinearities.tanh)
    layer = prelu(l_dense, shared_axes="all", name="p")
    assert isinstance(layer, ParametricRectifierLayer) and layer.input_layer is l_dense
    assert l_dense.nonlinearity is nonlinearities.identity
    assert layer.alpha.get_value().shape == () and layer.name == "p"
    assert prelu(l_in).input_layer is l_in  # layers without a nonlinearity are left alone
    l_nonlin = NonlinearityLayer(l_in)
    prelu(l_nonlin)
    assert l_nonlin.nonlinearity is nonlinearities.identity


@pytest.fixture
def seeded():
    nn_random.set_rng(np.random.RandomState(1234))


@pytest.mark.parametrize("input_shape, shared_axes, normalized", [
    ((None, 3), "auto", (0,)), ((None, 3, 4, 5), "auto", (0, 2, 3)),
    ((None, 3, 4), "all", (0, 1, 2)), ((None, 3, 4), (), ()), ((None, 3, 4), -1, (2,)),
])
def test_rrelu_shared_axes_and_shape(input_shape, shared_axes, normalized):
    layer = RandomizedRectifierLayer(input_shape, shared_axes=shared_axes)
    assert layer.shared_axes == normalized
    assert layer.output_shape == input_shape
    assert layer.get_params() == []
    assert (layer.lower, layer.upper) == (0.3, 0.8)


def test_rrelu_deterministic_uses_the_mean_slope():
    x = np.array([[-2., -1., 0., 3.]], dtype=floatX)
    l_in = InputLayer((None, 4))
    layer = RandomizedRectifierLayer(l_in, lower=0.2, upper=0.6)
    y = get_output(layer, x, deterministic=True).eval()
    np.testing.assert_allclose(y, leaky(x, 0.4), rtol=1e-6)
    assert y.dtype == floatX
    lower = pytensor.shared(np.asarray(0.1, dtype=floatX))
    symbolic = RandomizedRectifierLayer(l_in, lower=lower, upper=0.5)
    np.testing.assert_allclose(get_output(symbolic, x, deterministic=True).eval(),
                               leaky(x, 0.3), rtol=1e-6)


def test_rrelu_equal_bounds_need_no_randomness():
    layer = RandomizedRectifierLayer(InputLayer((None, 3)), lower=0.5, upper=0.5)
    y = get_output(layer)
    assert not any(isinstance(v.type, RandomType) for v in ancestors([y]))
    x = -np.ones((2, 3), dtype=floatX)
    np.testing.assert_allclose(y.eval({layer.input_layer.input_var: x}), -0.5 * np.ones((2, 3)),
                               rtol=1e-6)


def slopes_of(y, x):
    negative = x < 0
    return y[negative] / x[negative]


def test_rrelu_random_slopes_within_bounds_and_shared(seeded):
    lower, upper = 0.3, 0.8
    l_in = InputLayer((None, 6, 4))
    l_auto = RandomizedRectifierLayer(l_in, lower, upper)
    l_each = RandomizedRectifierLayer(l_in, lower, upper, shared_axes=())
    l_all = RandomizedRectifierLayer(l_in, lower, upper, shared_axes="all")
    fn = pytensor.function([l_in.input_var], get_output([l_auto, l_each, l_all]))
    x = -np.ones((50, 6, 4), dtype=floatX)
    auto, each, single = fn(x)
    for y in (auto, each, single):
        assert y.shape == x.shape and y.dtype == floatX
        slopes = -y
        assert np.all((slopes >= lower) & (slopes <= upper))
    # 'auto': one slope per feature, shared over the batch and trailing axes
    assert np.all(auto == auto[:1, :, :1]) and len(np.unique(auto[0, :, 0])) == 6
    assert len(np.unique(each)) > 1000  # one slope per entry
    assert np.all(single == single.flat[0])
    # uniform on [0.3, 0.8): mean 0.55, std 0.144; 1200 draws -> std error 0.004
    assert abs(-each.mean() - (lower + upper) / 2) < 0.02
    # positives pass through unchanged
    positive = fn(np.full((2, 6, 4), 2.0, dtype=floatX))
    for y in positive:
        np.testing.assert_array_equal(y, 2.0)


def test_rrelu_draws_fresh_slopes_on_every_call(seeded):
    layer = RandomizedRectifierLayer(InputLayer((None, 8)))
    fn = pytensor.function([layer.input_layer.input_var], get_output(layer))
    x = -np.ones((1, 8), dtype=floatX)
    first, second = fn(x), fn(x)
    assert not np.array_equal(first, second)


def test_rrelu_is_seeded_by_set_rng():
    def draw():
        nn_random.set_rng(np.random.RandomState(42))
        layer = RandomizedRectifierLayer(InputLayer((None, 5)), shared_axes=())
        fn = pytensor.function([layer.input_layer.input_var], get_output(layer))
        return fn(-np.ones((3, 5), dtype=floatX))

    np.testing.assert_array_equal(draw(), draw())


def test_rrelu_symbolic_bounds():
    upper = pytensor.shared(np.asarray(0.4, dtype=floatX))
    layer = RandomizedRectifierLayer(InputLayer((None, 4)), lower=0.2, upper=upper,
                                     shared_axes=())
    fn = pytensor.function([layer.input_layer.input_var], get_output(layer))
    x = -np.ones((20, 4), dtype=floatX)
    assert np.all((-fn(x) >= 0.2) & (-fn(x) <= 0.4))
    upper.set_value(np.asarray(0.25, dtype=floatX))
    assert np.all(-fn(x) <= 0.25)


def test_rrelu_rejects_bad_bounds():
    with pytest.raises(ValueError, match="Upper bound for RandomizedRectifierLayer"):
        RandomizedRectifierLayer((None, 3), lower=0.8, upper=0.3)
    with pytest.raises(TypeError, match="lower"):
        RandomizedRectifierLayer((None, 3), lower="0.1")
    assert RandomizedRectifierLayer((None, 3), lower=np.array(0.1)).lower == 0.1
    with pytest.raises(ValueError, match="scalar"):
        RandomizedRectifierLayer((None, 3), upper=pytensor.shared(np.ones(3)))
    with pytest.raises(ValueError, match="shared_axes"):
        RandomizedRectifierLayer((None, 3), shared_axes=3)


def test_rrelu_helper_strips_the_nonlinearity():
    l_dense = DenseLayer(InputLayer((None, 5)), 4)
    layer = rrelu(l_dense, lower=0.1, upper=0.2, shared_axes="all")
    assert isinstance(layer, RandomizedRectifierLayer) and layer.input_layer is l_dense
    assert l_dense.nonlinearity is nonlinearities.identity
    assert (layer.lower, layer.upper, layer.shared_axes) == (0.1, 0.2, (0, 1))
