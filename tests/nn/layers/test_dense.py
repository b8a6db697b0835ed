"""Tests of rnnlab.nn.layers.dense: DenseLayer and NINLayer."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

from rnnlab.nn import init, nonlinearities
from rnnlab.nn.layers import DenseLayer, InputLayer, NINLayer, get_output, get_output_shape


@pytest.mark.parametrize("input_shape, leading, output_shape, w_shape", [
    ((None, 10), 1, (None, 5), (10, 5)),
    ((None, 4, 3), 1, (None, 5), (12, 5)),
    ((None, 4, 3), 2, (None, 4, 5), (3, 5)),
    ((None, None, 3), -1, (None, None, 5), (3, 5)),
    ((None, 4, 3), -2, (None, 5), (12, 5)),
    ((4, 3), 0, (5,), (12, 5)),
])
def test_shapes(input_shape, leading, output_shape, w_shape):
    layer = DenseLayer(input_shape, 5, num_leading_axes=leading)
    assert layer.output_shape == output_shape
    assert layer.W.get_value().shape == w_shape
    assert layer.b.get_value().shape == (5,)


def test_values_match_numpy_for_all_leading_axes():
    rng = np.random.default_rng(0)
    floatX = pytensor.config.floatX
    cases = [((None, 10), 1, (6, 10)), ((None, 4, 3), 1, (6, 4, 3)), ((None, 4, 3), 2, (6, 4, 3)),
             ((None, None, 3), -1, (2, 7, 3)), ((None, 2, 2, 3), -2, (6, 2, 2, 3)),
             ((4, 3), 0, (4, 3))]
    layers, arrays = [], []
    for shape, leading, concrete in cases:
        layer = DenseLayer(InputLayer(shape), 5, num_leading_axes=leading,
                           b=init.Normal(1.0), nonlinearity=nonlinearities.rectify)
        layers.append(layer)
        arrays.append(rng.normal(size=concrete).astype(floatX))
    inputs = [l.input_layer.input_var for l in layers]
    outputs = pytensor.function(inputs, get_output(layers))(*arrays)
    for (shape, leading, _), layer, x, y in zip(cases, layers, arrays, outputs):
        lead = x.shape[:leading]
        flat = x.reshape(lead + (-1,))
        expected = np.maximum(flat @ layer.W.get_value() + layer.b.get_value(), 0)
        assert y.shape == get_output_shape(layer, x.shape)
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_no_bias_and_identity_nonlinearity():
    W = np.array([[1., -2.], [3., 0.5]])
    layer = DenseLayer(InputLayer((None, 2)), 2, W=W, b=None, nonlinearity=None)
    assert layer.b is None and layer.get_params() == [layer.W]
    x = np.array([[1., 1.], [-1., 2.]])
    np.testing.assert_allclose(get_output(layer, x).eval(), x @ W, rtol=1e-6)


def test_params_names_and_tags():
    layer = DenseLayer((None, 3), 4, name="hid")
    assert [p.name for p in layer.get_params()] == ["hid.W", "hid.b"]
    assert layer.get_params(trainable=True) == [layer.W, layer.b]
    assert layer.get_params(regularizable=True) == [layer.W]
    assert layer.get_params(regularizable=False) == [layer.b]
    assert [p.name for p in DenseLayer((None, 3), 4).get_params()] == ["W", "b"]
    # Defaults: Glorot-uniform weights within the Glorot bound, zero biases.
    bound = np.sqrt(6.0 / (3 + 4))
    assert np.all(np.abs(layer.W.get_value()) <= bound)
    assert np.all(layer.b.get_value() == 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_units=0), "num_units"),
    (dict(num_units=2.5), "num_units"),
    (dict(num_units=2, num_leading_axes=2), "num_leading_axes"),
    (dict(num_units=2, num_leading_axes=-3), "num_leading_axes"),
    (dict(num_units=2, nonlinearity="relu"), "nonlinearity"),
])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DenseLayer((None, 3), **kwargs)


def test_rejects_unknown_trailing_sizes():
    with pytest.raises(ValueError, match="trailing"):
        DenseLayer((None, None), 3)
    with pytest.raises(ValueError, match="trailing"):
        DenseLayer((None, None, 3), 3)  # num_leading_axes=1 flattens the unknown axis
    assert DenseLayer((None, None, 3), 3, num_leading_axes=2).output_shape == (None, None, 3)


def test_gradient_matches_finite_differences(float64):
    rng = np.random.default_rng(1)

    def dense(x, W, b):
        layer = DenseLayer(InputLayer((None, 2, 3)), 4, W=W, b=b, nonlinearity=pt.tanh)
        return get_output(layer, x)

    verify_grad(dense, [rng.normal(size=(5, 2, 3)), rng.normal(size=(6, 4)),
                        rng.normal(size=4)], rng=rng, n_tests=1)


@pytest.mark.parametrize("untie_biases", [False, True])
def test_nin_layer_is_a_dense_layer_per_position(untie_biases):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5)).astype(pytensor.config.floatX)
    layer = NINLayer(InputLayer((None, 3, 4, 5)), 6, untie_biases=untie_biases,
                     b=rng.standard_normal((6, 4, 5) if untie_biases else (6,)), name="nin")
    assert layer.output_shape == (None, 6, 4, 5)
    assert [p.name for p in layer.get_params()] == ["nin.W", "nin.b"]
    assert layer.get_params(regularizable=True) == [layer.W]
    W, b = layer.W.get_value(), layer.b.get_value()
    expected = np.einsum("bcij,cu->buij", x, W)
    expected += b[None] if untie_biases else b[None, :, None, None]
    got = get_output(layer, x).eval()
    np.testing.assert_allclose(got, np.maximum(expected, 0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        NINLayer((None, None, 4), 2)
