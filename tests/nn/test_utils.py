"""Tests for rnnlab.nn.utils: Lasagne's helpers, their defaults, results and exceptions."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import utils
from rnnlab.nn.init import Constant


def test_shared_empty_holds_ones_shaped_zeros_as_in_lasagne():
    assert utils.shared_empty().get_value().shape == (1, 1)
    assert utils.shared_empty(3, "int32").get_value().dtype == np.int32


def test_unique_keeps_first_occurrences_and_takes_lasagnes_argument_name():
    assert utils.unique(l=[2, 1, 2, 3, 1]) == [2, 1, 3]


def test_as_tuple_and_int_types_and_inspect_kwargs():
    assert utils.as_tuple(2, 3) == (2, 2, 2) and utils.as_tuple(range(2), 2) == (0, 1)
    assert utils.as_tuple((1, 2), 2, utils.int_types) == (1, 2)
    assert utils.as_tuple(np.int64(4), 1, utils.int_types) == (4,)
    with pytest.raises(TypeError, match="iterable of int"):
        utils.as_tuple(2.5, 2, int)
    with pytest.raises(ValueError, match="length 3"):
        utils.as_tuple([1, 2], 3)
    assert isinstance(np.int64(4), utils.int_types) and not isinstance(4.0, utils.int_types)

    def step(x, hid, gate=None, *, scale=1.0, **kwargs):
        pass
    assert utils.inspect_kwargs(step) == ["gate", "scale"]
    assert utils.inspect_kwargs(Constant.__init__) == ["val"]


def test_compute_norms_numeric_and_symbolic_with_lasagnes_defaults():
    w = np.random.default_rng(0).standard_normal((4, 3, 2))
    np.testing.assert_allclose(utils.compute_norms(w), np.sqrt((w ** 2).sum(axis=(1, 2))))
    np.testing.assert_allclose(utils.compute_norms(w[0]), np.sqrt((w[0] ** 2).sum(axis=0)))
    np.testing.assert_allclose(utils.compute_norms(w[0, 0]), np.abs(w[0, 0]))     # 1-d: |b|
    np.testing.assert_allclose(utils.compute_norms(w, norm_axes=(0,)),
                               np.sqrt((w ** 2).sum(axis=0)))
    symbolic = utils.compute_norms(pt.as_tensor(w))
    assert isinstance(symbolic, pytensor.graph.basic.Variable)
    np.testing.assert_allclose(symbolic.eval(), utils.compute_norms(w))
    np.testing.assert_allclose(utils.compute_norms(pt.as_tensor(w[0, 0])).eval(), np.abs(w[0, 0]))
    with pytest.raises(RuntimeError, match="Unsupported type list"):
        utils.compute_norms([[1.0, 2.0]])
    with pytest.raises(ValueError, match="norm_axes"):
        utils.compute_norms(np.zeros((1,) * 6))


def test_create_param_follows_lasagnes_rules_and_exceptions():
    scale = utils.create_param(0.5, (), name="scale")       # a number for shape ()
    assert scale.name == "scale" and float(scale.get_value()) == 0.5
    assert utils.create_param(np.float32(2), ()).get_value() == 2
    given = pytensor.shared(np.zeros((1, 1)))               # e.g. shared_empty(), set later
    assert utils.create_param(given, (5, 4), name="W") is given and given.name == "W"
    named = pytensor.shared(np.zeros(3), name="mine")
    assert utils.create_param(named, (3,), name="b").name == "mine"
    expression = pt.matrix("m") * 2
    assert utils.create_param(expression, (2, 2)) is expression
    with pytest.raises(ValueError, match="has shape \\(3,\\), should be \\(4,\\)"):
        utils.create_param(np.zeros(3), (4,))
    with pytest.raises(ValueError, match="has 1 dimensions, should be 2"):
        utils.create_param(pt.vector(), (2, 2))
    with pytest.raises(ValueError, match="non-positive"):
        utils.create_param(np.zeros(0), (0,))
    with pytest.raises(TypeError, match="returned by the provided callable is not"):
        utils.create_param(lambda shape: [0.0] * shape[0], (2,))
    with pytest.raises(TypeError, match="spec is not a numpy array, a PyTensor expression, or"):
        utils.create_param("zeros", (2,))


def test_unroll_scan_matches_scan_forwards_and_backwards():
    x = pt.matrix("x")
    h0 = pt.vector("h0")
    W = pytensor.shared(utils.floatX(np.eye(2) * 0.5))

    def step(xt, h, W):
        return pt.tanh(xt + h @ W)

    values = {x: np.arange(6.).reshape(3, 2).astype(x.dtype) / 6,
              h0: np.ones(2, h0.dtype)}
    for backwards in (False, True):
        [unrolled] = utils.unroll_scan(step, x, [h0], [W], 3, go_backwards=backwards)
        scanned = pytensor.scan(step, sequences=x, outputs_info=h0, non_sequences=W,
                                go_backwards=backwards, return_updates=False)
        np.testing.assert_allclose(unrolled.eval(values), scanned.eval(values), rtol=1e-6)
