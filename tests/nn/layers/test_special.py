"""Tests of rnnlab.nn.layers.special: nonlinearity, bias, scale and expression layers."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

from rnnlab.nn import init
from rnnlab.nn.layers import (BiasLayer, ExpressionLayer, InputLayer, NonlinearityLayer,
                              ScaleLayer, get_output, get_output_shape)


def evaluate(layers, arrays):
    """Compile one function for several layers, each on its own InputLayer."""
    inputs = [l.input_layer.input_var for l in layers]
    fn = pytensor.function(inputs, get_output(layers))
    return fn(*[np.asarray(a, dtype=v.dtype) for a, v in zip(arrays, inputs)])


def test_nonlinearity_layer_values():
    x = np.array([[-2., -0.5, 0., 1.5]])
    layers = [NonlinearityLayer(InputLayer((None, 4))),
              NonlinearityLayer(InputLayer((None, 4)), nonlinearity=None),
              NonlinearityLayer(InputLayer((None, 4)), nonlinearity=pt.tanh)]
    outputs = evaluate(layers, [x] * 3)
    for y, e in zip(outputs, [np.maximum(x, 0), x, np.tanh(x)]):
        np.testing.assert_allclose(y, e, rtol=1e-6)
    assert all(l.output_shape == (None, 4) for l in layers)
    with pytest.raises(TypeError, match="nonlinearity"):
        NonlinearityLayer((None, 4), nonlinearity="tanh")


@pytest.mark.parametrize("cls, attr", [(BiasLayer, "b"), (ScaleLayer, "scales")])
@pytest.mark.parametrize("input_shape, shared_axes, param_shape, normalized", [
    ((None, 3), "auto", (3,), (0,)),
    ((None, 3, 5, 7), "auto", (3,), (0, 2, 3)),
    ((None, 4, 5), (0, 1), (5,), (0, 1)),
    ((None, 4, 5), 0, (4, 5), (0,)),
    ((None, 4, 5), (0, -1), (4,), (0, 2)),
    ((4,), "auto", (), (0,)),
])
def test_param_shapes_and_tags(cls, attr, input_shape, shared_axes, param_shape, normalized):
    layer = cls(input_shape, shared_axes=shared_axes, name="l")
    param = getattr(layer, attr)
    assert param.get_value().shape == param_shape
    assert param.name == f"l.{attr}"
    assert layer.shared_axes == normalized
    assert layer.output_shape == input_shape
    assert layer.get_params(regularizable=True) == []
    assert layer.get_params(trainable=True) == [param]


@pytest.mark.parametrize("cls", [BiasLayer, ScaleLayer])
@pytest.mark.parametrize("input_shape, shared_axes", [
    ((None, None), "auto"), ((None, 3), 2), ((None, 3), "all"), ((None, 3), (0, 1.5)),
])
def test_param_layers_reject_bad_shapes(cls, input_shape, shared_axes):
    with pytest.raises(ValueError, match=cls.__name__):
        cls(input_shape, shared_axes=shared_axes)


def test_bias_none_is_identity_and_scale_none_is_rejected():
    layer = BiasLayer(InputLayer((None, 3)), b=None)
    assert layer.b is None and layer.get_params() == []
    assert get_output(layer) is layer.input_layer.input_var
    with pytest.raises(ValueError, match="scales"):
        ScaleLayer((None, 3), scales=None)


def test_bias_and_scale_values_broadcast_over_shared_axes():
    rng = np.random.default_rng(0)
    configs = [((None, 3, 4), "auto"), ((None, 3, 4), (0, 2)), ((2, 3, 4), (1,)),
               ((None, 3, 4), (0,))]
    layers, arrays, expected = [], [], []
    for shape, axes in configs:
        x = rng.normal(size=(2, 3, 4))
        bias = BiasLayer(InputLayer(shape), b=init.Normal(1.0), shared_axes=axes)
        scale = ScaleLayer(InputLayer(shape), scales=init.Normal(1.0), shared_axes=axes)
        layers += [bias, scale]
        arrays += [x, x]
        # Reinsert the shared axes as size-1 axes to broadcast the parameter as numpy would.
        keep = [a for a in range(3) if a not in bias.shared_axes]
        full = [1] * 3
        for a in keep:
            full[a] = x.shape[a]
        expected += [x + bias.b.get_value().reshape(full),
                     x * scale.scales.get_value().reshape(full)]
    for layer, x, y, e in zip(layers, arrays, evaluate(layers, arrays), expected):
        assert y.shape == get_output_shape(layer, x.shape)
        np.testing.assert_allclose(y, e, rtol=1e-5, atol=1e-6)


def test_bias_and_scale_gradients(float64):
    rng = np.random.default_rng(1)

    def bias_then_scale(x, b, s):
        l_b = BiasLayer(InputLayer((None, 3, 4)), b=b, shared_axes=(0, 2))
        l_s = ScaleLayer(l_b, scales=s, shared_axes=0)
        return get_output(l_s, x)

    verify_grad(bias_then_scale, [rng.normal(size=(2, 3, 4)), rng.normal(size=3),
                                  rng.normal(size=(3, 4))], rng=rng, n_tests=1)


def test_expression_layer_output_shapes():
    l_in = InputLayer((None, 3, 4))
    assert ExpressionLayer(l_in, pt.sqr).output_shape == (None, 3, 4)
    assert ExpressionLayer(l_in, lambda x: x[:, 0], output_shape=(None, 4)).output_shape == \
        (None, 4)
    by_callable = ExpressionLayer(l_in, lambda x: x.sum(-1), output_shape=lambda s: s[:-1])
    assert by_callable.output_shape == (None, 3)
    assert get_output_shape(by_callable, (7, 3, 4)) == (7, 3)
    # 'auto' from static shapes alone (no compilation) ...
    assert ExpressionLayer((2, 3), lambda x: x.sum(axis=0), "auto").output_shape == (3,)
    # ... and by evaluation when some sizes are unknown.
    auto_cases = [(lambda x: x.sum(axis=1), (None, 4)),
                  (lambda x: x.dimshuffle(2, 1, 0), (4, 3, None)),
                  (lambda x: x.reshape((x.shape[0] * 3, 4)), (None, 4)),
                  (lambda x: pt.concatenate([x, x], axis=0)[:, :2], (None, 2, 4))]
    for fn, expected in auto_cases:
        layer = ExpressionLayer(l_in, fn, output_shape="auto")
        assert layer.output_shape == expected
        assert layer.output_shape == expected  # cached
    with pytest.raises(ValueError, match="output_shape"):
        ExpressionLayer(l_in, pt.sqr, output_shape="same")
    with pytest.raises(TypeError, match="function"):
        ExpressionLayer(l_in, "sqr")


def test_expression_layer_values_match_reported_shape():
    rng = np.random.default_rng(2)
    l_in = InputLayer((None, 3, 4))
    layer = ExpressionLayer(l_in, lambda x: x.dimshuffle(2, 1, 0) * 2, output_shape="auto")
    x = rng.normal(size=(5, 3, 4)).astype(l_in.input_var.dtype)
    y = pytensor.function([l_in.input_var], get_output(layer))(x)
    assert y.shape == get_output_shape(layer, x.shape) == (4, 3, 5)
    np.testing.assert_allclose(y, 2 * x.transpose(2, 1, 0), rtol=1e-6)
