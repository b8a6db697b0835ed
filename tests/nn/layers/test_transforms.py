"""Tests of rnnlab.nn.layers.transforms: standardize and InverseLayer."""

import numpy as np
import pytensor
import pytest

from rnnlab.nn import init, nonlinearities
from rnnlab.nn.layers import (BiasLayer, ConcatLayer, DenseLayer, InputLayer, ScaleLayer,
                              get_all_layers, get_all_params, get_output, get_output_shape)
from rnnlab.nn.layers.pool import Upscale2DLayer
from rnnlab.nn.layers.transforms import InverseLayer, standardize

floatX = pytensor.config.floatX


def test_module_exports():
    from rnnlab.nn.layers import transforms
    assert set(transforms.__all__) == {"standardize", "InverseLayer"}


def test_standardize_structure_and_tags():
    l_in = InputLayer((None, 3))
    offset, scale = np.array([1., 2., 3.]), np.array([2., 4., 8.])
    layer = standardize(l_in, offset, scale, shared_axes=0)
    assert isinstance(layer, ScaleLayer) and isinstance(layer.input_layer, BiasLayer)
    assert layer.input_layer.input_layer is l_in
    assert layer.output_shape == (None, 3)
    bias = layer.input_layer
    assert bias.params[bias.b] == set() and layer.params[layer.scales] == set()
    assert get_all_params(layer, trainable=True) == []
    assert get_all_params(layer, regularizable=True) == []
    assert get_all_params(layer) == [bias.b, layer.scales]
    np.testing.assert_allclose(bias.b.get_value(), -offset)
    np.testing.assert_allclose(layer.scales.get_value(), 1 / scale)
    assert bias.b.dtype == floatX and layer.scales.dtype == floatX


def test_standardize_values_match_numpy():
    rng = np.random.default_rng(0)
    data2 = rng.normal(3., 2., size=(20, 4)).astype(floatX)
    data4 = rng.normal(-1., 5., size=(6, 3, 2, 2)).astype(floatX)
    l_dense = standardize(InputLayer((None, 4)), data2.mean(axis=0), data2.std(axis=0),
                          shared_axes=0)
    mean4, std4 = data4.mean(axis=(0, 2, 3)), data4.std(axis=(0, 2, 3))
    l_conv = standardize(InputLayer((None, 3, None, None)), mean4, std4)  # 'auto': per channel
    inputs = [l.input_layer.input_layer.input_var for l in (l_dense, l_conv)]
    y2, y4 = pytensor.function(inputs, get_output([l_dense, l_conv]))(data2, data4)
    np.testing.assert_allclose(y2, (data2 - data2.mean(0)) / data2.std(0), rtol=1e-4, atol=1e-5)
    expected4 = (data4 - mean4[None, :, None, None]) / std4[None, :, None, None]
    np.testing.assert_allclose(y4, expected4, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y4.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert y2.dtype == floatX


def test_standardize_with_shared_statistics_stays_live():
    offset = pytensor.shared(np.zeros(2, dtype=floatX))
    scale = pytensor.shared(np.ones(2, dtype=floatX))
    l_in = InputLayer((None, 2))
    layer = standardize(l_in, offset, scale)
    fn = pytensor.function([l_in.input_var], get_output(layer))
    x = np.array([[4., 6.]], dtype=floatX)
    np.testing.assert_allclose(fn(x), x)
    offset.set_value(np.array([2., 2.], dtype=floatX))
    scale.set_value(np.array([2., 4.], dtype=floatX))
    np.testing.assert_allclose(fn(x), [[1., 1.]])
    assert get_all_params(layer) == [offset, scale]
    assert get_all_params(layer, trainable=True) == []


def test_standardize_rejects_mismatched_statistics():
    with pytest.raises(ValueError):
        standardize((None, 3), np.zeros(2), np.ones(2))


def test_inverse_of_dense_layer_is_the_transpose():
    rng = np.random.default_rng(1)
    l_in = InputLayer((None, 5))
    l_enc = DenseLayer(l_in, 3, W=init.Normal(1.0), b=init.Normal(1.0), nonlinearity=None)
    l_dec = InverseLayer(l_enc, l_enc)
    assert l_dec.output_shape == (None, 5)
    assert l_dec.input_layers == [l_enc, l_enc, l_in]
    assert l_dec.get_params() == [] and get_all_params(l_dec) == [l_enc.W, l_enc.b]
    assert get_output_shape(l_dec, (7, 5)) == (7, 5)
    x = rng.normal(size=(4, 5)).astype(floatX)
    y = pytensor.function([l_in.input_var], get_output(l_dec))(x)
    W, b = l_enc.W.get_value(), l_enc.b.get_value()
    np.testing.assert_allclose(y, (x @ W + b) @ W.T, rtol=1e-4, atol=1e-4)
    assert y.shape == (4, 5) and y.dtype == floatX


def test_inverse_includes_the_nonlinearity_derivative_and_chains():
    rng = np.random.default_rng(2)
    l_in = InputLayer((None, 4))
    l1 = DenseLayer(l_in, 3, W=init.Normal(1.0), b=init.Normal(1.0))  # rectify
    l2 = DenseLayer(l1, 2, W=init.Normal(1.0), nonlinearity=nonlinearities.tanh)
    l_u2 = InverseLayer(l2, l2)
    l_u1 = InverseLayer(l_u2, l1)
    assert (l_u2.output_shape, l_u1.output_shape) == ((None, 3), (None, 4))
    x = rng.normal(size=(6, 4)).astype(floatX)
    u2, u1 = pytensor.function([l_in.input_var], get_output([l_u2, l_u1]))(x)
    W1, b1, W2, b2 = (p.get_value() for p in (l1.W, l1.b, l2.W, l2.b))
    pre1 = x @ W1 + b1
    h1 = np.maximum(pre1, 0)
    y2 = np.tanh(h1 @ W2 + b2)
    expected_u2 = (y2 * (1 - y2 ** 2)) @ W2.T
    expected_u1 = (expected_u2 * (pre1 > 0)) @ W1.T
    np.testing.assert_allclose(u2, expected_u2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(u1, expected_u1, rtol=1e-4, atol=1e-5)


def test_inverse_of_a_separate_incoming_and_of_upscaling():
    # The incoming need not be the inverted layer: v @ W.T for any v shaped like its output.
    l_in = InputLayer((None, 3))
    l_enc = DenseLayer(l_in, 2, W=np.arange(6, dtype=floatX).reshape(3, 2), nonlinearity=None)
    l_v = InputLayer((None, 2))
    l_dec = InverseLayer(l_v, l_enc)
    v = np.array([[1., -1.], [2., 0.5]], dtype=floatX)
    x = np.zeros((2, 3), dtype=floatX)
    fn = pytensor.function([l_in.input_var, l_v.input_var], get_output(l_dec),
                           on_unused_input="ignore")
    np.testing.assert_allclose(fn(x, v), v @ l_enc.W.get_value().T, rtol=1e-6)
    assert set(get_all_layers(l_dec)) == {l_in, l_enc, l_v, l_dec}
    # The gradient of repeat-upscaling sums each block: sum pooling.
    l_img = InputLayer((None, 1, 2, 2))
    l_up = Upscale2DLayer(l_img, 2)
    l_down = InverseLayer(l_up, l_up)
    assert l_down.output_shape == (None, 1, 2, 2)
    img = np.arange(4, dtype=floatX).reshape(1, 1, 2, 2)
    np.testing.assert_allclose(get_output(l_down, img).eval(), 4 * img)


def test_inverse_rejects_layers_it_cannot_invert():
    with pytest.raises(ValueError, match="created from a shape"):
        InverseLayer((None, 2), DenseLayer((None, 3), 2))
    l_a, l_b = InputLayer((None, 2)), InputLayer((None, 2))
    l_cat = ConcatLayer([l_a, l_b])
    with pytest.raises(TypeError, match="single-input Layer"):
        InverseLayer(l_cat, l_cat)
    with pytest.raises(TypeError, match="single-input Layer"):
        InverseLayer(l_a, (None, 2))
