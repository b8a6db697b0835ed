"""Tests of rnnlab.nn.layers.pool: global and feature pooling, winner-take-all and upscaling."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn.layers import InputLayer, get_output, get_output_shape
from rnnlab.nn.layers.pool import (FeaturePoolLayer, FeatureWTALayer, GlobalPoolLayer,
                                   Upscale1DLayer, Upscale2DLayer, Upscale3DLayer)

floatX = pytensor.config.floatX


def evaluate(layers, arrays):
    """Compile one function for several layers, each on its own InputLayer."""
    inputs = [l.input_layer.input_var for l in layers]
    fn = pytensor.function(inputs, get_output(layers))
    return fn(*[np.asarray(a, dtype=v.dtype) for a, v in zip(arrays, inputs)])


def test_module_exports():
    from rnnlab.nn.layers import pool
    assert set(pool.__all__) == {"GlobalPoolLayer", "FeaturePoolLayer", "FeatureWTALayer",
                                 "Upscale1DLayer", "Upscale2DLayer", "Upscale3DLayer"}
    assert "PyTensor has no pooling op" in pool.__doc__


@pytest.mark.parametrize("input_shape, output_shape", [
    ((None, 3, 4, 5), (None, 3)), ((2, 3, None), (2, 3)), ((None, None, 2, 2, 2), (None, None)),
])
def test_global_pool_shapes(input_shape, output_shape):
    layer = GlobalPoolLayer(input_shape)
    assert layer.output_shape == output_shape
    assert layer.get_params() == []
    assert layer.pool_function is pt.mean


def test_global_pool_values_match_numpy():
    rng = np.random.default_rng(0)
    x4 = rng.normal(size=(2, 3, 4, 5)).astype(floatX)
    x3 = rng.normal(size=(2, 3, 7)).astype(floatX)
    layers = [GlobalPoolLayer(InputLayer((None, 3, 4, 5))),
              GlobalPoolLayer(InputLayer((None, 3, None, None)), pool_function=pt.max),
              GlobalPoolLayer(InputLayer((None, 3, 7)), pool_function=pt.sum)]
    mean, maximum, total = evaluate(layers, [x4, x4, x3])
    np.testing.assert_allclose(mean, x4.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maximum, x4.max(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_allclose(total, x3.sum(axis=2), rtol=1e-5, atol=1e-5)
    assert mean.shape == get_output_shape(layers[0], x4.shape) == (2, 3)


def test_global_pool_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 3"):
        GlobalPoolLayer((None, 3))
    with pytest.raises(TypeError, match="pool_function"):
        GlobalPoolLayer((None, 3, 4), pool_function="mean")


@pytest.mark.parametrize("input_shape, pool_size, axis, output_shape, stored_axis", [
    ((None, 6), 3, 1, (None, 2), 1),
    ((None, 4, 5, 5), 2, 1, (None, 2, 5, 5), 1),
    ((None, 3, 8), 4, 2, (None, 3, 2), 2),
    ((None, 3, 8), 4, -1, (None, 3, 2), 2),
    ((None, None, 3), 2, 1, (None, None, 3), 1),
    ((6, 3), 3, 0, (2, 3), 0),
])
def test_feature_pool_shapes(input_shape, pool_size, axis, output_shape, stored_axis):
    layer = FeaturePoolLayer(input_shape, pool_size, axis=axis)
    assert layer.output_shape == output_shape
    assert layer.axis == stored_axis and layer.pool_size == pool_size
    assert layer.pool_function is pt.max
    assert layer.get_params() == []


def numpy_feature_pool(x, pool_size, axis, reduce):
    shape = x.shape[:axis] + (x.shape[axis] // pool_size, pool_size) + x.shape[axis + 1:]
    return reduce(x.reshape(shape), axis=axis + 1)


def test_feature_pool_values_match_numpy():
    rng = np.random.default_rng(1)
    x2 = rng.normal(size=(3, 6)).astype(floatX)
    x4 = rng.normal(size=(2, 4, 3, 5)).astype(floatX)
    x3 = rng.normal(size=(2, 3, 8)).astype(floatX)
    layers = [FeaturePoolLayer(InputLayer((None, 6)), 3),
              FeaturePoolLayer(InputLayer((None, 4, 3, 5)), 2, pool_function=pt.mean),
              FeaturePoolLayer(InputLayer((None, 3, None)), 4, axis=-1)]
    outputs = evaluate(layers, [x2, x4, x3])
    expected = [numpy_feature_pool(x2, 3, 1, np.max), numpy_feature_pool(x4, 2, 1, np.mean),
                numpy_feature_pool(x3, 4, 2, np.max)]
    for layer, x, y, e in zip(layers, [x2, x4, x3], outputs, expected):
        np.testing.assert_allclose(y, e, rtol=1e-5, atol=1e-6)
        assert y.shape == get_output_shape(layer, x.shape)


@pytest.mark.parametrize("cls, what", [(FeaturePoolLayer, "pool size"),
                                       (FeatureWTALayer, "region size")])
def test_feature_layers_reject_non_multiples_and_bad_arguments(cls, what):
    with pytest.raises(ValueError, match=rf"\(5\) is not a multiple of the {what}"):
        cls((None, 5), 2)
    with pytest.raises(ValueError, match="multiple"):
        cls((None, 4, 6), 4, axis=2)
    for pool_size in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="pool_size"):
            cls((None, 4), pool_size)
    for axis in (2, -3, 1.0):
        with pytest.raises(ValueError, match="axis"):
            cls((None, 4), 2, axis=axis)


def numpy_wta(x, pool_size, axis):
    shape = x.shape[:axis] + (x.shape[axis] // pool_size, pool_size) + x.shape[axis + 1:]
    grouped = x.reshape(shape)
    winners = np.argmax(grouped, axis=axis + 1)
    mask = np.zeros_like(grouped)
    np.put_along_axis(mask, np.expand_dims(winners, axis + 1), 1, axis=axis + 1)
    return (grouped * mask).reshape(x.shape)


def test_feature_wta_values_match_numpy():
    rng = np.random.default_rng(2)
    x2 = rng.normal(size=(3, 6)).astype(floatX)
    x4 = rng.normal(size=(2, 4, 3, 3)).astype(floatX)
    x3 = rng.normal(size=(2, 3, 6)).astype(floatX)
    layers = [FeatureWTALayer(InputLayer((None, 6)), 3),
              FeatureWTALayer(InputLayer((None, 4, 3, 3)), 2),
              FeatureWTALayer(InputLayer((None, 3, None)), 2, axis=2)]
    outputs = evaluate(layers, [x2, x4, x3])
    for layer, x, y, (size, axis) in zip(layers, [x2, x4, x3], outputs, [(3, 1), (2, 1), (2, 2)]):
        np.testing.assert_array_equal(y, numpy_wta(x, size, axis))
        assert y.dtype == x.dtype and layer.output_shape == layer.input_shape
    # ties keep the first maximum only
    tied = get_output(FeatureWTALayer(InputLayer((None, 4)), 2),
                      np.array([[1., 1., 0., 2.]], dtype=floatX)).eval()
    np.testing.assert_array_equal(tied, [[1., 0., 0., 2.]])


@pytest.mark.parametrize("cls, input_shape, scale_factor, factors, output_shape", [
    (Upscale1DLayer, (None, 3, 4), 2, (2,), (None, 3, 8)),
    (Upscale1DLayer, (None, 3, None), [3], (3,), (None, 3, None)),
    (Upscale2DLayer, (None, 3, 4, 5), 2, (2, 2), (None, 3, 8, 10)),
    (Upscale2DLayer, (2, None, None, 5), (1, 3), (1, 3), (2, None, None, 15)),
    (Upscale3DLayer, (None, 1, 2, 3, 4), 2, (2, 2, 2), (None, 1, 4, 6, 8)),
    (Upscale3DLayer, (None, 1, 2, None, 4), (3, 1, 2), (3, 1, 2), (None, 1, 6, None, 8)),
])
def test_upscale_shapes(cls, input_shape, scale_factor, factors, output_shape):
    for mode in ("repeat", "dilate"):
        layer = cls(input_shape, scale_factor, mode=mode)
        assert layer.scale_factor == factors and layer.mode == mode
        assert layer.output_shape == output_shape
        assert layer.get_params() == []
    assert cls(input_shape, scale_factor).mode == "repeat"


def numpy_upscale(x, factors, mode):
    if mode == "repeat":
        for axis, f in enumerate(factors, start=2):
            x = np.repeat(x, f, axis=axis)
        return x
    shape = x.shape[:2] + tuple(s * f for s, f in zip(x.shape[2:], factors))
    out = np.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, f) for f in factors)] = x
    return out


@pytest.mark.parametrize("mode", ["repeat", "dilate"])
def test_upscale_values_match_numpy(mode):
    rng = np.random.default_rng(3)
    x3 = rng.normal(size=(2, 2, 3)).astype(floatX)
    x4 = rng.normal(size=(2, 2, 3, 2)).astype(floatX)
    x5 = rng.normal(size=(1, 2, 2, 3, 2)).astype(floatX)
    configs = [(Upscale1DLayer, (None, 2, None), 3, (3,), x3),
               (Upscale2DLayer, (None, 2, 3, 2), (2, 3), (2, 3), x4),
               (Upscale2DLayer, (None, 2, None, None), (1, 2), (1, 2), x4),
               (Upscale3DLayer, (None, 2, 2, 3, 2), (2, 1, 3), (2, 1, 3), x5),
               (Upscale2DLayer, (None, 2, 3, 2), 1, (1, 1), x4)]
    layers = [cls(InputLayer(shape), factor, mode=mode) for cls, shape, factor, _, _ in configs]
    outputs = evaluate(layers, [c[-1] for c in configs])
    for layer, (_, _, _, factors, x), y in zip(layers, configs, outputs):
        np.testing.assert_array_equal(y, numpy_upscale(x, factors, mode))
        assert y.dtype == x.dtype and y.shape == get_output_shape(layer, x.shape)


def test_upscale_gradient_of_dilate_picks_the_placed_entries():
    l_in = InputLayer((None, 1, 2, 2))
    y = get_output(Upscale2DLayer(l_in, 2, mode="dilate"))
    weights = np.arange(16, dtype=floatX).reshape(1, 1, 4, 4)
    grad = pytensor.grad((y * weights).sum(), l_in.input_var)
    value = pytensor.function([l_in.input_var], grad)(np.ones((1, 1, 2, 2), dtype=floatX))
    np.testing.assert_array_equal(value, weights[:, :, ::2, ::2])


@pytest.mark.parametrize("cls, shape, n", [(Upscale1DLayer, (None, 2, 3), 1),
                                           (Upscale2DLayer, (None, 2, 3, 3), 2),
                                           (Upscale3DLayer, (None, 2, 3, 3, 3), 3)])
def test_upscale_rejects_bad_arguments(cls, shape, n):
    with pytest.raises(ValueError, match="Scale factor must be >= 1"):
        cls(shape, 0)
    with pytest.raises(ValueError, match="Scale factor must be >= 1"):
        cls(shape, (1,) * (n - 1) + (-1,))
    with pytest.raises(ValueError, match="Mode must be either 'repeat' or 'dilate'"):
        cls(shape, 2, mode="nearest")
    with pytest.raises(ValueError, match=f"iterable of {n}"):
        cls(shape, (2,) * (n + 1))
    with pytest.raises(TypeError, match="scale_factor"):
        cls(shape, 1.5)
    with pytest.raises(ValueError, match=f"at least {n + 2}"):
        cls(shape[:-1], 2)
