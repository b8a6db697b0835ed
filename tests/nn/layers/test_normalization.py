"""Tests of rnnlab.nn.layers.normalization: local response, batch and per-example normalization."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

from rnnlab.nn import init, nonlinearities
from rnnlab.nn.layers import (BiasLayer, DenseLayer, InputLayer, NonlinearityLayer, ScaleLayer,
                              get_all_layers, get_all_params, get_output, get_output_shape)
from rnnlab.nn.layers.normalization import (BatchNormLayer, LocalResponseNormalization2DLayer,
                                            StandardizationLayer, batch_norm, instance_norm,
                                            layer_norm)


def compile_output(layer, **kwargs):
    """A function of the network's input variable computing ``layer``'s output."""
    l_in = get_all_layers(layer)[0]
    return pytensor.function([l_in.input_var], get_output(layer, **kwargs))


def as_floatX(array):
    return np.asarray(array, dtype=pytensor.config.floatX)


# ----------------------------------------------------------------------------------------------
# LocalResponseNormalization2DLayer


def lrn_reference(x, alpha, k, beta, n):
    half = n // 2
    channels = x.shape[1]
    out = np.empty_like(x)
    for i in range(channels):
        window = x[:, max(0, i - half):min(channels, i + half + 1)]
        out[:, i] = x[:, i] / (k + alpha * (window ** 2).sum(axis=1)) ** beta
    return out


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 7, 3, 4), {}),
    ((2, 7, 3, 4), dict(alpha=0.3, k=1, beta=0.5, n=3)),
    ((1, 2, 2, 3), dict(alpha=0.5, k=0.5, beta=1.5, n=5)),  # window wider than the channels
    ((2, 3, 2, 2), dict(alpha=1.0, k=1.0, beta=1.0, n=1)),
])
def test_lrn_matches_numpy(shape, kwargs):
    x = np.random.default_rng(0).normal(size=shape) * 3
    layer = LocalResponseNormalization2DLayer(InputLayer((None, shape[1], None, None)), **kwargs)
    y = compile_output(layer)(as_floatX(x))
    assert y.dtype == pytensor.config.floatX
    params = dict(dict(alpha=1e-4, k=2, beta=0.75, n=5), **kwargs)
    np.testing.assert_allclose(y, lrn_reference(x, **params), rtol=1e-5, atol=1e-6)
    assert layer.output_shape == (None, shape[1], None, None)
    assert get_output_shape(layer, shape) == shape
    assert {name: getattr(layer, name) for name in params} == params
    assert layer.get_params() == []


def test_lrn_rejects_even_n_and_other_dimensions():
    for n in (4, 0):
        with pytest.raises(NotImplementedError, match="odd n"):
            LocalResponseNormalization2DLayer((None, 3, 4, 4), n=n)
    for n in (-3, 2.5):
        with pytest.raises(ValueError, match="odd int"):
            LocalResponseNormalization2DLayer((None, 3, 4, 4), n=n)
    for shape in [(None, 3), (None, 3, 4), (None, 3, 4, 4, 4)]:
        with pytest.raises(ValueError, match="4-dimensional"):
            LocalResponseNormalization2DLayer(shape)
    layer = LocalResponseNormalization2DLayer((None, 3, 4, 4))
    with pytest.raises(ValueError, match="3-d input"):
        layer.get_output_for(pt.tensor3())


# ----------------------------------------------------------------------------------------------
# BatchNormLayer


def batch_norm_reference(x, axes, beta, gamma, mean=None, inv_std=None, epsilon=1e-4):
    """Normalize ``x`` by the given statistics, or its own over ``axes``; params per other axis."""
    shape = [1 if a in axes else s for a, s in enumerate(x.shape)]
    if mean is None:
        mean = x.mean(axis=axes)
        inv_std = 1 / np.sqrt(x.var(axis=axes) + epsilon)

    def per_position(param):
        return param if np.ndim(param) == 0 else np.reshape(param, shape)
    return ((x - per_position(mean)) * per_position(inv_std) * per_position(gamma)
            + per_position(beta))


@pytest.mark.parametrize("input_shape, axes, normalized, param_shape", [
    ((None, 3), "auto", (0,), (3,)),
    ((None, 3, 4, 5), "auto", (0, 2, 3), (3,)),
    ((None, 3, 4), (0, 1), (0, 1), (4,)),
    ((2, 3, 4), -1, (2,), (2, 3)),
    ((2, 3, 4), (0, -1), (0, 2), (3,)),
    ((None, 1, 4), "auto", (0, 2), (1,)),
])
def test_batch_norm_layer_shapes_and_params(input_shape, axes, normalized, param_shape):
    layer = BatchNormLayer(input_shape, axes=axes, name="bn")
    assert layer.axes == normalized
    assert layer.output_shape == input_shape
    for param, name in [(layer.beta, "beta"), (layer.gamma, "gamma"), (layer.mean, "mean"),
                        (layer.inv_std, "inv_std")]:
        assert param.get_value().shape == param_shape
        assert param.name == f"bn.{name}"
    np.testing.assert_array_equal(layer.gamma.get_value(), 1)
    np.testing.assert_array_equal(layer.inv_std.get_value(), 1)
    np.testing.assert_array_equal(layer.beta.get_value(), 0)
    np.testing.assert_array_equal(layer.mean.get_value(), 0)


def test_batch_norm_layer_tags():
    layer = BatchNormLayer((None, 3, 4))
    assert layer.get_params() == [layer.beta, layer.gamma, layer.mean, layer.inv_std]
    assert layer.get_params(trainable=True) == [layer.beta, layer.gamma]
    assert layer.get_params(regularizable=True) == [layer.gamma]
    assert layer.get_params(trainable=False) == [layer.mean, layer.inv_std]
    assert layer.get_params(batch_norm_stat=True) == [layer.mean, layer.inv_std]
    none = BatchNormLayer((None, 3), beta=None, gamma=None)
    assert none.beta is None and none.gamma is None
    assert none.get_params() == [none.mean, none.inv_std]
    assert none.get_params(trainable=True) == []


@pytest.mark.parametrize("shape, axes", [((6, 3), "auto"), ((4, 3, 2, 5), "auto"),
                                         ((4, 3, 5), (0, 1)), ((4, 3, 5), (1, 2))])
def test_batch_norm_layer_outputs_match_numpy(shape, axes):
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, size=shape)
    # the batch size is left unknown unless the parameters depend on it
    layer = BatchNormLayer(InputLayer((None,) + shape[1:] if axes == "auto" or 0 in axes
                                      else shape), axes=axes)
    values = [as_floatX(rng.uniform(0.5, 1.5, size=p.get_value().shape))
              for p in layer.get_params()]
    beta, gamma, mean, inv_std = values
    train = batch_norm_reference(x, layer.axes, beta, gamma)
    averaged = batch_norm_reference(x, layer.axes, beta, gamma, mean, inv_std)
    cases = [({}, train),
             (dict(deterministic=True), averaged),
             (dict(deterministic=True, batch_norm_use_averages=False), train),
             (dict(batch_norm_use_averages=True), averaged),
             (dict(batch_norm_update_averages=False), train)]
    for kwargs, expected in cases:
        for param, value in zip(layer.get_params(), values):
            param.set_value(value)  # undo the update of the averages by the previous case
        y = compile_output(layer, **kwargs)(as_floatX(x))
        assert y.shape == shape and y.dtype == pytensor.config.floatX
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4, err_msg=str(kwargs))


def test_batch_norm_layer_without_beta_and_gamma_standardizes():
    x = np.random.default_rng(2).normal(size=(8, 3))
    layer = BatchNormLayer(InputLayer((None, 3)), beta=None, gamma=None, epsilon=1e-6)
    y = compile_output(layer)(as_floatX(x))
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-4)


def test_running_averages_after_one_training_step():
    rng = np.random.default_rng(3)
    x = rng.normal(1.0, 2.0, size=(5, 3, 4))
    alpha, epsilon = 0.3, 1e-3
    layer = BatchNormLayer(InputLayer((None, 3, 4)), alpha=alpha, epsilon=epsilon,
                           mean=init.Constant(0.5), inv_std=init.Constant(2.0))
    compile_output(layer)(as_floatX(x))
    expected_mean = (1 - alpha) * 0.5 + alpha * x.mean(axis=(0, 2))
    expected_inv_std = (1 - alpha) * 2.0 + alpha / np.sqrt(x.var(axis=(0, 2)) + epsilon)
    np.testing.assert_allclose(layer.mean.get_value(), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(layer.inv_std.get_value(), expected_inv_std, rtol=1e-5)
    # A second call moves them again, from the new values.
    compile_output(layer)(as_floatX(x))
    expected_mean = (1 - alpha) * expected_mean + alpha * x.mean(axis=(0, 2))
    np.testing.assert_allclose(layer.mean.get_value(), expected_mean, rtol=1e-5)


@pytest.mark.parametrize("kwargs, updates", [
    (dict(deterministic=True), False),
    (dict(batch_norm_update_averages=False), False),
    (dict(deterministic=True, batch_norm_update_averages=True), True),
    (dict(batch_norm_use_averages=True), True),
])
def test_running_averages_update_only_when_asked(kwargs, updates):
    x = as_floatX(np.random.default_rng(4).normal(3.0, 1.0, size=(4, 2)))
    layer = BatchNormLayer(InputLayer((None, 2)))
    compile_output(layer, **kwargs)(x)
    moved = not np.allclose(layer.mean.get_value(), 0)
    assert moved == updates
    assert moved == (not np.allclose(layer.inv_std.get_value(), 1))


def test_training_step_with_explicit_updates_also_moves_the_averages():
    from rnnlab.nn import updates as nn_updates

    rng = np.random.default_rng(5)
    l_in = InputLayer((None, 4))
    l_out = batch_norm(DenseLayer(l_in, 3, W=init.Normal(1.0)), alpha=0.5)
    bn = l_out.input_layer
    x = as_floatX(rng.normal(size=(6, 4)))
    loss = pt.sqr(get_output(l_out) - 1).mean()
    params = get_all_params(l_out, trainable=True)
    assert bn.mean not in params and bn.inv_std not in params
    step = pytensor.function([l_in.input_var], loss, updates=nn_updates.sgd(loss, params, 0.1))
    W = l_out.input_layer.input_layer.W.get_value()
    step(x)
    np.testing.assert_allclose(bn.mean.get_value(), 0.5 * (x @ W).mean(axis=0), rtol=1e-4,
                               atol=1e-6)
    assert not np.allclose(bn.beta.get_value(), 0)  # the trainable parameters moved too


def test_batch_norm_layer_uses_given_variables_and_expressions():
    mean = pytensor.shared(as_floatX([1.0, 2.0]), name="my_mean")
    layer = BatchNormLayer(InputLayer((None, 2)), mean=mean,
                           inv_std=pt.as_tensor(as_floatX([1.0, 1.0])))
    assert layer.mean is mean
    x = as_floatX([[1.0, 2.0], [3.0, 6.0]])
    fn = pytensor.function([], get_output(layer, pt.as_tensor(x)))
    fn()
    # the shared mean moves; the constant inv_std, not a shared variable, stays as it is
    np.testing.assert_allclose(mean.get_value(), [0.9 + 0.2, 1.8 + 0.4], rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(axes="all"), "axes='all'"),
    (dict(axes=(0, 3)), "outside"),
    (dict(axes=1.5), "axes=1.5"),
    (dict(axes=()), "needs specified input sizes"),
    (dict(axes=-1), "needs specified input sizes"),
])
def test_batch_norm_layer_rejects_bad_axes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNormLayer((None, 3, 4), **kwargs)


def test_get_output_accepts_the_batch_norm_kwargs_and_hints_at_typos():
    layer = BatchNormLayer(InputLayer((None, 3)))
    get_output(layer, batch_norm_use_averages=True, batch_norm_update_averages=False)
    with pytest.warns(UserWarning, match="did you mean 'batch_norm_use_averages'"):
        get_output(layer, batch_norm_use_average=True)


# ----------------------------------------------------------------------------------------------
# batch_norm


def test_batch_norm_moves_the_nonlinearity_and_drops_the_bias():
    l_in = InputLayer((None, 5))
    l_dense = DenseLayer(l_in, 4, nonlinearity=nonlinearities.tanh, name="dense")
    old_b = l_dense.b
    l_out = batch_norm(l_dense, epsilon=1e-3, alpha=0.2)
    assert isinstance(l_out, NonlinearityLayer)
    assert l_out.nonlinearity is nonlinearities.tanh
    bn = l_out.input_layer
    assert isinstance(bn, BatchNormLayer) and bn.input_layer is l_dense
    assert (bn.epsilon, bn.alpha) == (1e-3, 0.2)
    assert l_dense.nonlinearity is nonlinearities.identity
    assert l_dense.b is None and old_b not in l_dense.params
    assert (bn.name, l_out.name) == ("dense_bn", "dense_bn_nonlin")
    assert get_all_params(l_out) == [l_dense.W, bn.beta, bn.gamma, bn.mean, bn.inv_std]
    assert get_all_params(l_out, trainable=True) == [l_dense.W, bn.beta, bn.gamma]
    assert get_all_params(l_out, regularizable=True) == [l_dense.W, bn.gamma]
    # the output: tanh of the batch-normalized x W
    x = np.random.default_rng(6).normal(size=(7, 5))
    y = compile_output(l_out)(as_floatX(x))
    expected = np.tanh(batch_norm_reference(x @ l_dense.W.get_value(), (0,), 0, 1,
                                            epsilon=1e-3))
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_batch_norm_names_and_layers_without_nonlinearity():
    l_dense = DenseLayer((None, 5), 4, nonlinearity=None)
    l_out = batch_norm(l_dense, name="bn", axes=(0,))
    # Lasagne keeps even an identity nonlinearity, in a NonlinearityLayer of its own
    assert isinstance(l_out, NonlinearityLayer) and l_out.name == "bn_nonlin"
    assert l_out.input_layer.name == "bn"
    l_bias = BiasLayer((None, 3))  # a bias but no nonlinearity attribute
    l_out = batch_norm(l_bias)
    assert isinstance(l_out, BatchNormLayer) and l_out.name is None
    assert l_bias.b is None and l_bias.get_params() == []
    l_nob = DenseLayer((None, 5), 4, b=None)
    assert isinstance(batch_norm(l_nob), NonlinearityLayer)


# ----------------------------------------------------------------------------------------------
# StandardizationLayer, instance_norm and layer_norm


@pytest.mark.parametrize("shape, axes, normalized", [
    ((None, 5), "auto", (1,)),
    ((None, 3, 4, 5), "auto", (2, 3)),
    ((None, 3, 4), "spatial", (2,)),
    ((None, 3, 4), "features", (1, 2)),
    ((None, 3, 4), 1, (1,)),
    ((None, 3, 4), (-1, 0), (0, 2)),
])
def test_standardization_layer_matches_numpy(shape, axes, normalized):
    x = np.random.default_rng(7).normal(1.0, 2.0, size=(3,) + shape[1:])
    layer = StandardizationLayer(InputLayer(shape), axes=axes, epsilon=1e-3)
    assert layer.axes == normalized
    assert layer.output_shape == shape and layer.get_params() == []
    y = compile_output(layer)(as_floatX(x))
    mean = x.mean(axis=normalized, keepdims=True)
    expected = (x - mean) / np.sqrt(x.var(axis=normalized, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    y_det = compile_output(layer, deterministic=True)(as_floatX(x))
    np.testing.assert_allclose(y_det, y)


def test_standardization_layer_rejects_bad_axes():
    for axes in ["all", (0, 5), [1.0]]:
        with pytest.raises(ValueError, match="StandardizationLayer"):
            StandardizationLayer((None, 3, 4), axes=axes)


def test_instance_norm_stack():
    l_dense = DenseLayer(InputLayer((None, 3, 6)), 5, num_leading_axes=2,
                         nonlinearity=nonlinearities.tanh, name="conv")
    l_out = instance_norm(l_dense, epsilon=1e-3)
    layers = get_all_layers(l_out)[1:]
    assert [type(l) for l in layers] == [DenseLayer, StandardizationLayer, ScaleLayer, BiasLayer,
                                         NonlinearityLayer]
    _, l_std, l_scale, l_bias, _ = layers
    assert l_std.axes == (2,) and l_std.epsilon == 1e-3
    assert l_scale.scales.get_value().shape == (3,) and l_bias.b.get_value().shape == (3,)
    assert [l.name for l in layers] == ["conv", "conv_in", "conv_in_scale", "conv_in_bias",
                                        "conv_in_nonlin"]
    assert l_dense.b is None and l_dense.nonlinearity is nonlinearities.identity
    assert l_out.nonlinearity is nonlinearities.tanh
    for scale, bias, expected in [(False, True, [StandardizationLayer, BiasLayer]),
                                  (True, False, [StandardizationLayer, ScaleLayer]),
                                  (False, False, [StandardizationLayer])]:
        l_plain = DenseLayer((None, 3, 6), 5, num_leading_axes=2)
        top = instance_norm(l_plain, learn_scale=scale, learn_bias=bias)
        assert [type(l) for l in get_all_layers(top)[1:]] == expected + [NonlinearityLayer]
        assert l_plain.b is None
    with pytest.raises(TypeError, match="axes"):
        instance_norm(DenseLayer((None, 3, 6), 5, num_leading_axes=2), axes=(1,))


def test_layer_norm_stack_and_output():
    l_dense = DenseLayer(InputLayer((None, 6)), 4, nonlinearity=nonlinearities.rectify,
                         name="hid")
    l_out = layer_norm(l_dense)
    layers = get_all_layers(l_out)[1:]
    assert [type(l) for l in layers] == [DenseLayer, StandardizationLayer, ScaleLayer, BiasLayer,
                                         NonlinearityLayer]
    assert [l.name for l in layers[1:]] == ["hid_ln", "hid_ln_scale", "hid_ln_bias",
                                            "hid_ln_nonlin"]
    _, l_std, l_scale, l_bias, _ = layers
    assert l_std.axes == (1,) and l_dense.b is None
    assert get_all_params(l_out) == [l_dense.W, l_scale.scales, l_bias.b]
    rng = np.random.default_rng(8)
    l_scale.scales.set_value(as_floatX(rng.uniform(0.5, 2, size=4)))
    l_bias.b.set_value(as_floatX(rng.normal(size=4)))
    x = rng.normal(size=(3, 6))
    h = x @ l_dense.W.get_value()
    z = (h - h.mean(axis=1, keepdims=True)) / np.sqrt(h.var(axis=1, keepdims=True) + 1e-4)
    expected = np.maximum(z * l_scale.scales.get_value() + l_bias.b.get_value(), 0)
    np.testing.assert_allclose(compile_output(l_out)(as_floatX(x)), expected, rtol=1e-4,
                               atol=1e-5)


# ----------------------------------------------------------------------------------------------
# Gradients


def test_batch_norm_gradients(float64):
    rng = np.random.default_rng(9)

    def train_output(x, gamma, beta):
        layer = BatchNormLayer(InputLayer((None, 2, 3)), beta=beta, gamma=gamma)
        return get_output(layer, x, batch_norm_update_averages=False)

    def averaged_output(x, gamma, beta, mean, inv_std):
        layer = BatchNormLayer(InputLayer((None, 2, 3)), beta=beta, gamma=gamma, mean=mean,
                               inv_std=inv_std)
        return get_output(layer, x, deterministic=True)

    args = [rng.normal(size=(4, 2, 3)), rng.uniform(0.5, 1.5, size=2), rng.normal(size=2)]
    verify_grad(train_output, args, rng=rng, n_tests=1)
    verify_grad(averaged_output, args + [rng.normal(size=2), rng.uniform(0.5, 1.5, size=2)],
                rng=rng, n_tests=1)


def test_lrn_and_standardization_gradients(float64):
    rng = np.random.default_rng(10)

    def lrn(x):
        layer = LocalResponseNormalization2DLayer(InputLayer((None, 4, 2, 2)), alpha=0.5, n=3)
        return get_output(layer, x)

    def standardize(x):
        return get_output(StandardizationLayer(InputLayer((None, 3, 4))), x)

    verify_grad(lrn, [rng.normal(size=(2, 4, 2, 2))], rng=rng, n_tests=1)
    verify_grad(standardize, [rng.normal(size=(2, 3, 4))], rng=rng, n_tests=1)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "CVM",
                                  pytest.param("NUMBA", marks=pytest.mark.slow)])
def test_outputs_read_the_averages_as_they_were_before_the_update(mode):
    """The running averages are updated in place: no output of the same call may see the new
    values (the optimising modes made the update in place before the output read it)."""
    x = np.random.RandomState(0).randn(4, 3).astype(pytensor.config.floatX)
    m = pt.matrix("m")

    def layer():
        bn = BatchNormLayer(InputLayer((None, 3)), alpha=0.5)
        bn.mean.set_value(np.array([1, 2, 3], bn.mean.dtype))
        bn.inv_std.set_value(np.array([2, 2, 2], bn.inv_std.dtype))
        return bn

    bn = layer()
    f = pytensor.function([m], get_output(bn, m, batch_norm_use_averages=True,
                                          batch_norm_update_averages=True), mode=mode)
    np.testing.assert_allclose(f(x), (x - [1, 2, 3]) * 2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.mean.get_value(), 0.5 * np.array([1, 2, 3]) + 0.5 * x.mean(0),
                               rtol=1e-5)
    bn = layer()
    f = pytensor.function([m], [get_output(bn, m), get_output(bn, m, deterministic=True)],
                          mode=mode)
    np.testing.assert_allclose(f(x)[1], (x - [1, 2, 3]) * 2, rtol=1e-5, atol=1e-5)
