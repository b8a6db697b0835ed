"""Tests for rnnlab.nn.random: the shared generator behind initializers and noise seeds."""

import numpy as np
import pytest

from rnnlab.nn import init, random


@pytest.fixture
def restore_rng():
    old = random.get_rng()
    yield
    random.set_rng(old)


def test_default_is_numpys_global_generator():
    # Lasagne's default: np.random itself, so np.random.seed seeds initialization too
    assert random.get_rng() is np.random.mtrand._rand


def test_set_rng_replaces_generator(restore_rng):
    rng = np.random.RandomState(0)
    random.set_rng(rng)
    assert random.get_rng() is rng


def test_set_rng_makes_initializers_reproducible(restore_rng):
    random.set_rng(np.random.RandomState(7))
    a = init.GlorotUniform()((5, 4))
    b = init.Orthogonal()((3, 3))
    random.set_rng(np.random.RandomState(7))
    np.testing.assert_array_equal(init.GlorotUniform()((5, 4)), a)
    np.testing.assert_array_equal(init.Orthogonal()((3, 3)), b)
    random.set_rng(np.random.RandomState(8))
    assert not np.array_equal(init.GlorotUniform()((5, 4)), a)


def test_set_rng_rejects_non_generator(restore_rng):
    before = random.get_rng()
    with pytest.raises(TypeError, match="new_rng"):
        random.set_rng(42)
    assert random.get_rng() is before
