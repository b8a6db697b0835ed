"""Tests of rnnlab.nn.layers.noise: dropout and Gaussian noise."""

import numpy as np
import pytensor
import pytest

from rnnlab.nn import random as nn_random
from rnnlab.nn.layers import (DropoutLayer, GaussianNoiseLayer, InputLayer, dropout,
                              dropout_channels, dropout_locations, get_output, get_output_shape,
                              spatial_dropout)

floatX = pytensor.config.floatX


@pytest.fixture
def seeded():
    """Seed rnnlab's generator for the test and restore the previous one afterwards."""
    old = nn_random.get_rng()
    nn_random.set_rng(np.random.RandomState(1234))
    yield
    nn_random.set_rng(old)


def test_aliases_and_shared_axes_shortcuts():
    assert dropout is DropoutLayer and spatial_dropout is dropout_channels
    l_in = InputLayer((None, 8, 5, 5))
    assert dropout_channels(l_in).shared_axes == (2, 3)
    assert dropout_channels((None, 8, 5)).shared_axes == (2,)
    assert dropout_locations(l_in, p=0.1).shared_axes == (1,)
    assert DropoutLayer(l_in, shared_axes=(0, -1)).shared_axes == (0, 3)


def test_deterministic_and_zero_rate_are_identities():
    l_in = InputLayer((None, 3))
    x = l_in.input_var
    assert get_output(DropoutLayer(l_in), deterministic=True) is x
    assert get_output(DropoutLayer(l_in, p=0)) is x
    assert get_output(GaussianNoiseLayer(l_in), deterministic=True) is x
    assert get_output(GaussianNoiseLayer(l_in, sigma=0)) is x


def test_dropout_statistics(seeded):
    """Mask entries are Bernoulli(1 - p); rescaling preserves the mean; shared axes broadcast."""
    l_in = InputLayer((None, 500))
    l_rescaled = DropoutLayer(l_in, p=0.3)
    l_plain = DropoutLayer(l_in, p=0.3, rescale=False)
    l_in3 = InputLayer((None, 40, 30))
    l_shared = DropoutLayer(l_in3, p=0.5, shared_axes=(1,))
    layers = [l_rescaled, l_plain, l_shared]
    fn = pytensor.function([l_in.input_var, l_in3.input_var], get_output(layers))
    x = np.ones((200, 500), dtype=floatX)
    x3 = np.ones((60, 40, 30), dtype=floatX)
    rescaled, plain, shared = fn(x, x3)
    for layer, arr, y in zip(layers, [x, x, x3], [rescaled, plain, shared]):
        assert y.dtype == floatX and y.shape == get_output_shape(layer, arr.shape)
    # 100,000 draws: the dropped fraction is within 7 standard deviations (0.0014) of p.
    assert abs(np.mean(rescaled == 0) - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(rescaled), [0, 1 / 0.7], rtol=1e-6)
    assert abs(rescaled.mean() - 1) < 0.02
    np.testing.assert_array_equal(np.unique(plain), [0, 1])
    assert abs(plain.mean() - 0.7) < 0.01
    # Shared over axis 1: one mask entry per (batch, feature), constant along axis 1.
    assert np.all(shared == shared[:, :1, :])
    assert abs(np.mean(shared[:, 0, :] == 0) - 0.5) < 0.05
    # Each call draws a new mask.
    assert not np.array_equal(fn(x, x3)[0], rescaled)


def test_seeding_makes_masks_reproducible():
    old = nn_random.get_rng()
    try:
        l_in = InputLayer((None, 50))
        nn_random.set_rng(np.random.RandomState(7))
        first = DropoutLayer(l_in)
        nn_random.set_rng(np.random.RandomState(7))
        second, third = DropoutLayer(l_in), DropoutLayer(l_in)
    finally:
        nn_random.set_rng(old)
    fn = pytensor.function([l_in.input_var], get_output([first, second, third]))
    a, b, c = fn(np.ones((4, 50), dtype=floatX))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_symbolic_rate_changes_without_recompiling(seeded):
    p = pytensor.shared(np.asarray(0.0, dtype=floatX))
    l_in = InputLayer((None, 1000))
    fn = pytensor.function([l_in.input_var], get_output(DropoutLayer(l_in, p=p)))
    x = np.ones((20, 1000), dtype=floatX)
    np.testing.assert_array_equal(fn(x), x)
    p.set_value(np.asarray(0.8, dtype=floatX))
    y = fn(x)
    assert abs(np.mean(y == 0) - 0.8) < 0.02
    np.testing.assert_allclose(y[y != 0], 5.0, rtol=1e-5)


def test_gaussian_noise_statistics(seeded):
    l_in = InputLayer((None, 500))
    layer = GaussianNoiseLayer(l_in, sigma=0.5)
    fn = pytensor.function([l_in.input_var], get_output(layer))
    x = np.full((200, 500), 3.0, dtype=floatX)
    y = fn(x)
    assert y.dtype == floatX and y.shape == get_output_shape(layer, x.shape)
    noise = y - x
    # Standard errors over 100,000 draws: 0.0016 for the mean, 0.0011 for the std.
    assert abs(noise.mean()) < 0.01
    assert abs(noise.std() - 0.5) < 0.01
    assert not np.array_equal(fn(x), y)


@pytest.mark.parametrize("kwargs", [dict(p=1.0), dict(p=-0.1), dict(p=1.5, rescale=False),
                                    dict(p="high"), dict(shared_axes=(2,)),
                                    dict(shared_axes=(-3,))])
def test_dropout_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="DropoutLayer"):
        DropoutLayer((None, 3), **kwargs)


def test_dropout_rate_one_without_rescaling_is_allowed_and_noise_checks_sigma():
    assert DropoutLayer((None, 3), p=1.0, rescale=False).p == 1.0
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoiseLayer((None, 3), sigma=-1)


def test_scalar_arguments_may_be_0d_arrays_and_channel_dropout_sets_its_axes():
    """``floatX(0.5)`` is how Lasagne-era code spells p; Lasagne overrides shared_axes."""
    from rnnlab.nn.utils import floatX as as_floatX
    assert float(DropoutLayer((None, 3), p=as_floatX(0.5)).p) == 0.5
    assert float(GaussianNoiseLayer((None, 3), sigma=as_floatX(0.2)).sigma) == pytest.approx(0.2)
    assert dropout_channels((None, 4, 5, 5), p=0.1, shared_axes=(0,)).shared_axes == (2, 3)
    assert dropout_locations((None, 4, 5, 5), shared_axes=(3,)).shared_axes == (1,)


def test_noise_layers_keep_their_streams_as_srng_which_reseeds():
    l_in = InputLayer((None, 200))
    layer = DropoutLayer(l_in, p=0.5)
    x = l_in.input_var
    f = pytensor.function([x], get_output(layer))
    ones = np.ones((1, 200), x.dtype)
    layer._srng.seed(11)
    first = f(ones)
    layer._srng.seed(11)                 # Lasagne-era code reseeds through layer._srng.seed
    np.testing.assert_array_equal(f(ones), first)
