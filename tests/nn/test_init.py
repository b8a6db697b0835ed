"""Tests for rnnlab.nn.init: shapes, dtypes, distribution statistics and argument checks."""

import numpy as np
import pytensor
import pytest

from rnnlab.nn import init, random


@pytest.fixture(autouse=True)
def seeded_rng():
    """Draw from a fixed generator so the statistical checks are deterministic; restore after."""
    old = random.get_rng()
    random.set_rng(np.random.RandomState(12345))
    yield
    random.set_rng(old)


FLOATX = pytensor.config.floatX

ALL = [init.Constant(), init.Normal(), init.Uniform(), init.GlorotNormal(), init.GlorotUniform(),
       init.HeNormal(), init.HeUniform(), init.Orthogonal(), init.Sparse()]


@pytest.mark.parametrize("initializer", ALL, ids=lambda i: type(i).__name__)
def test_shape_and_dtype(initializer):
    for shape in [(7, 5), (4, 3, 2, 2)] if not isinstance(initializer, init.Sparse) else [(7, 5)]:
        w = initializer(shape)
        assert isinstance(w, np.ndarray) and w.shape == shape and w.dtype == FLOATX
        assert np.all(np.isfinite(w))


def test_sample_equals_call_and_base_is_abstract():
    random.set_rng(np.random.RandomState(1))
    a = init.Normal().sample((3, 2))
    random.set_rng(np.random.RandomState(1))
    np.testing.assert_array_equal(init.Normal()((3, 2)), a)
    with pytest.raises(NotImplementedError):
        init.Initializer()((2, 2))


def test_constant():
    np.testing.assert_array_equal(init.Constant()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.Constant(-1.5)((4,)), np.full(4, -1.5))
    assert init.Constant(2.0)(()).shape == ()


def test_normal_statistics():
    w = init.Normal(std=0.5, mean=2.0)((400, 500))
    assert abs(w.mean() - 2.0) < 0.005 and abs(w.std() - 0.5) < 0.005
    assert abs(init.Normal()((400, 500)).std() - 0.01) < 1e-4  # Lasagne's default std


def test_uniform_ranges():
    w = init.Uniform()((300, 300))  # default range 0.01 -> U(-0.01, 0.01)
    assert -0.01 <= w.min() < -0.0099 and 0.0099 < w.max() <= 0.01
    w = init.Uniform(range=(1.0, 3.0))((300, 300))
    assert 1.0 <= w.min() < 1.01 and 2.99 < w.max() <= 3.0
    w = init.Uniform(std=2.0, mean=-1.0)((300, 300))
    assert abs(w.std() - 2.0) < 0.02 and abs(w.mean() + 1.0) < 0.03
    assert w.max() <= -1 + 2 * np.sqrt(3) + 1e-5


@pytest.mark.parametrize("shape, fan_sum", [((400, 600), 1000), ((30, 20, 3, 5), 50 * 15)])
@pytest.mark.parametrize("cls", [init.GlorotNormal, init.GlorotUniform])
def test_glorot_std(cls, shape, fan_sum):
    w = cls(gain=2.0)(shape)
    expected = 2.0 * np.sqrt(2.0 / fan_sum)
    assert abs(w.std() / expected - 1) < 0.02
    if cls is init.GlorotUniform:  # U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))
        assert np.abs(w).max() <= 2.0 * np.sqrt(6.0 / fan_sum) * (1 + 1e-6)


def test_glorot_c01b_and_generic_initializer():
    # c01b: n1 = shape[0], n2 = shape[3], receptive field = shape[1] * shape[2]
    w = init.GlorotNormal(c01b=True)((16, 3, 3, 32))
    assert abs(w.std() / np.sqrt(2.0 / (48 * 9)) - 1) < 0.05
    w = init.Glorot(init.Uniform, gain="relu")((300, 500))
    assert abs(w.std() / (np.sqrt(2) * np.sqrt(2.0 / 800)) - 1) < 0.02


@pytest.mark.parametrize("shape, fan_in", [((500, 300), 500), ((40, 10, 3, 3), 90)])
@pytest.mark.parametrize("cls", [init.HeNormal, init.HeUniform])
def test_he_std(cls, shape, fan_in):
    w = cls(gain="relu")(shape)
    assert abs(w.std() / np.sqrt(2.0 / fan_in) - 1) < 0.03


def test_he_c01b():
    w = init.He(init.Normal, c01b=True)((10, 3, 3, 64))
    assert abs(w.std() / np.sqrt(1.0 / 90) - 1) < 0.05


@pytest.mark.parametrize("shape", [(6, 6), (5, 8), (9, 4), (4, 3, 2)])
def test_orthogonal(shape):
    q = init.Orthogonal(gain=1.5)(shape).reshape(shape[0], -1).astype(np.float64)
    n = min(q.shape)
    gram = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(n), atol=1e-5)


def test_orthogonal_relu_gain():
    q = init.Orthogonal("relu")((5, 5)).astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 2 * np.eye(5), atol=1e-5)


def test_sparse():
    w = init.Sparse(sparsity=0.2, std=0.5)((50, 400))
    assert np.all((w != 0).sum(axis=0) == 10)  # int(0.2 * 50) non-zeros in every column
    nonzero = w[w != 0]
    assert abs(nonzero.std() - 0.5) < 0.02
    rows_used = (w != 0).any(axis=1)
    assert rows_used.all()  # the non-zero rows differ between columns
    assert not init.Sparse(sparsity=0.0)((5, 3)).any()


@pytest.mark.parametrize("initializer, shape", [
    (init.GlorotUniform(), (5,)),
    (init.GlorotNormal(c01b=True), (3, 4, 5)),
    (init.HeNormal(), (5,)),
    (init.HeUniform(c01b=True), (2, 2)),
    (init.Orthogonal(), (7,)),
    (init.Sparse(), (3, 4, 5)),
])
def test_shapes_an_initializer_cannot_fill_raise_runtime_error_as_in_lasagne(initializer, shape):
    with pytest.raises(RuntimeError, match="shape"):
        initializer(shape)


def test_a_negative_size_is_a_value_error():
    with pytest.raises(ValueError, match="shape"):
        init.Normal()((3, -1))


@pytest.mark.parametrize("make, exc, word", [
    (lambda: init.Normal(std=-1), ValueError, "std"),
    (lambda: init.Uniform(range="a"), ValueError, "range"),
    (lambda: init.GlorotUniform(gain="tanh"), ValueError, "gain"),
    (lambda: init.Orthogonal(gain=None), TypeError, "gain"),
    (lambda: init.Sparse(sparsity=1.5), ValueError, "sparsity"),
    (lambda: init.Constant("x"), TypeError, "val"),
])
def test_bad_arguments(make, exc, word):
    with pytest.raises(exc, match=word):
        make()


def test_scalar_arguments_may_be_0d_arrays_and_constant_broadcasts_an_array():
    """``floatX(0.1)`` is a 0-d array: Lasagne-era code passes those as std, gain, range."""
    from rnnlab.nn.utils import floatX
    for initializer in (init.Normal(std=floatX(0.1)), init.Uniform(range=floatX(0.1)),
                        init.GlorotUniform(gain=floatX(1.0)), init.Orthogonal(gain=floatX(2.0)),
                        init.Sparse(sparsity=floatX(0.5), std=floatX(0.1))):
        assert initializer((4, 6)).shape == (4, 6)
    assert init.Constant(floatX(2.0))((2,)).tolist() == [2.0, 2.0]
    rows = init.Constant(np.array([[1.0], [2.0]]))((2, 3))
    assert rows.tolist() == [[1.0] * 3, [2.0] * 3] and rows.dtype == floatX(0).dtype
    with pytest.raises(ValueError):                      # numpy's broadcasting error
        init.Constant(np.ones(4))((2, 3))
    with pytest.raises(TypeError, match="val"):
        init.Constant(np.array(["a"]))
    w = init.Uniform(range=(2, 1))((100,))               # numpy's uniform, bounds swapped
    assert w.min() > 1 and w.max() <= 2
