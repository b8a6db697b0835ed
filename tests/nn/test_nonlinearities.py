"""Tests for rnnlab.nn.nonlinearities: symbolic and numpy paths against hand-written formulas."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import nonlinearities as nl
from rnnlab.nn.utils import floatX

X = floatX([-50.0, -3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 50.0])
M = floatX([[1.0, 2.0, 3.0], [-1.0, 0.0, 1000.0]])

SELU_SCALE, SELU_NEG = 1.0507009873554805, 1.6732632423543772

# name -> (nonlinearity, reference written without the module's numpy path)
ELEMENTWISE = {
    "sigmoid": (nl.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (nl.tanh, np.tanh),
    "scaled_tanh": (nl.ScaledTanH(2 / 3, 1.7159), lambda x: 1.7159 * np.tanh(2 / 3 * x)),
    "rectify": (nl.rectify, lambda x: x * (x > 0)),
    "leaky_rectify": (nl.leaky_rectify, lambda x: np.where(x < 0, 0.01 * x, x)),
    "very_leaky_rectify": (nl.very_leaky_rectify, lambda x: np.where(x < 0, x / 3, x)),
    "leaky_0.5": (nl.LeakyRectify(0.5), lambda x: np.where(x < 0, 0.5 * x, x)),
    "leaky_0": (nl.LeakyRectify(0), lambda x: x * (x > 0)),
    "elu": (nl.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    "selu": (nl.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_NEG * (np.exp(x) - 1))),
    "selu_custom": (nl.SELU(2.0, 0.5), lambda x: 2.0 * np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    "softplus": (nl.softplus, lambda x: np.where(x > 30, x, np.log1p(np.exp(np.minimum(x, 30))))),
    "linear": (nl.linear, lambda x: x),
    "identity": (nl.identity, lambda x: x),
}


def _softmax_reference(m):
    m = m.astype(np.float64)
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def compiled():
    """All symbolic outputs (and gradients of the piecewise ones) from one compiled function."""
    x = pt.vector("x")
    m = pt.matrix("m")
    names = list(ELEMENTWISE)
    outs = [ELEMENTWISE[n][0](x) for n in names]
    outs.append(nl.softmax(m))
    grad_names = ["rectify", "leaky_rectify", "elu", "selu", "softplus"]
    outs += [pytensor.grad(ELEMENTWISE[n][0](x).sum(), x) for n in grad_names]
    f = pytensor.function([x, m], outs)
    values = f(X, M)
    n = len(names)
    return (dict(zip(names, values[:n])), values[n], dict(zip(grad_names, values[n + 1:])),
            dict(zip(names, outs[:n])))


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_symbolic_matches_reference(compiled, name):
    values, _, _, outs = compiled
    expected = ELEMENTWISE[name][1](X.astype(np.float64))
    np.testing.assert_allclose(values[name], expected, rtol=1e-5, atol=1e-6)
    assert values[name].shape == X.shape
    assert outs[name].dtype == pytensor.config.floatX


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_numpy_input_gives_numpy_output(name):
    fn, ref = ELEMENTWISE[name]
    x64 = X.astype(np.float64)
    out = fn(x64)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, ref(x64), rtol=1e-12, atol=1e-12)


def test_softmax_rows(compiled):
    _, sm, _, _ = compiled
    np.testing.assert_allclose(sm, _softmax_reference(M), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sm.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(np.isfinite(sm))  # the 1000 logit does not overflow
    np.testing.assert_allclose(nl.softmax(M.astype(np.float64)), _softmax_reference(M), rtol=1e-12)


def test_gradients(compiled):
    _, _, grads, _ = compiled
    x = X.astype(np.float64)
    nz = x != 0  # at 0 the rectifiers' subgradient is the mean of the two slopes (as in Lasagne)
    np.testing.assert_allclose(grads["rectify"][nz], (x[nz] > 0).astype(float))
    np.testing.assert_allclose(grads["leaky_rectify"][nz], np.where(x[nz] > 0, 1.0, 0.01),
                               rtol=1e-6)
    # the unused exp branch must not turn the gradient at x = 50 into inf/nan
    np.testing.assert_allclose(grads["elu"], np.where(x > 0, 1.0, np.exp(x)), rtol=1e-5)
    np.testing.assert_allclose(grads["selu"],
                               SELU_SCALE * np.where(x > 0, 1.0, SELU_NEG * np.exp(x)), rtol=1e-5)
    np.testing.assert_allclose(grads["softplus"], 1 / (1 + np.exp(-x)), rtol=1e-5, atol=1e-7)


def test_rectify_numpy_scalar_and_list():
    assert nl.rectify(-2.0) == 0.0
    assert isinstance(nl.rectify([-1, 2]), np.ndarray)
    np.testing.assert_array_equal(nl.rectify([-1, 2]), [0, 2])


def test_linear_returns_input_unchanged():
    x = pt.matrix()
    assert nl.linear(x) is x and nl.identity is nl.linear


def test_scaled_tanh_alias_and_defaults():
    assert nl.ScaledTanh is nl.ScaledTanH
    f = nl.ScaledTanh()
    assert (f.scale_in, f.scale_out) == (1, 1)
    assert nl.LeakyRectify().leakiness == 0.01
    assert nl.very_leaky_rectify.leakiness == pytest.approx(1 / 3)
    assert (nl.selu.scale, nl.selu.scale_neg) == (SELU_SCALE, SELU_NEG)


@pytest.mark.parametrize("make", [lambda: nl.LeakyRectify("a"), lambda: nl.ScaledTanH(None),
                                  lambda: nl.SELU(scale="x")])
def test_bad_parameters(make):
    with pytest.raises(TypeError):
        make()


def test_selu_defaults_are_lasagnes_and_parameters_may_be_symbolic_or_0d():
    x = np.array([-1.0, 2.0])
    plain = nl.SELU()                      # Lasagne: scale=1, scale_neg=1 (an ELU)
    assert (plain.scale, plain.scale_neg) == (1, 1)
    np.testing.assert_allclose(plain(x), nl.elu(x))
    selu = nl.selu                         # the instance has the paper's constants
    assert (selu.scale, selu.scale_neg) == (1.0507009873554805, 1.6732632423543772)
    slope = pytensor.shared(0.25)
    leaky = nl.LeakyRectify(slope)
    assert leaky(x).eval().tolist() == [-0.25, 2.0]
    slope.set_value(0.5)
    assert leaky(x).eval().tolist() == [-0.5, 2.0]
    np.testing.assert_allclose(nl.ScaledTanH(floatX(0.5), 2)(x),
                               2 * np.tanh(0.5 * x), rtol=1e-6)
    with pytest.raises(TypeError, match="scalar"):
        nl.SELU(scale=pytensor.tensor.vector())
