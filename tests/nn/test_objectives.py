"""Tests for rnnlab.nn.objectives: values against numpy, target formats, reductions and errors."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn import objectives as obj
from rnnlab.nn.utils import floatX

RNG = np.random.RandomState(0)
N, C = 6, 4
P_BIN = floatX(RNG.uniform(0.05, 0.95, N))
T_BIN = floatX(RNG.randint(0, 2, N))
LOGITS = RNG.normal(size=(N, C))
PROBS = floatX(np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True))
IDS = np.array([0, 3, 1, 2, 3, 0], dtype="int32")
ONEHOT = floatX(np.eye(C)[IDS])
SOFT = floatX(RNG.dirichlet(np.ones(C), size=N))
SCORES = floatX(RNG.normal(size=(N, C)) * 2)
A = floatX(RNG.normal(size=N) * 2)
B = floatX(RNG.normal(size=N))
W = floatX([1, 0, 1, 1, 0, 2])


@pytest.fixture(scope="module")
def values():
    """Every objective on the module's data, from one compiled function."""
    p, t, a, b, w = pt.vectors("p", "t", "a", "b", "w")
    probs, onehot, soft, scores = pt.matrices("probs", "onehot", "soft", "scores")
    ids = pt.ivector("ids")
    col = pt.matrix("col", shape=(None, 1))
    seq = probs.reshape((2, 3, C))  # (batch, time, classes)
    loss = obj.squared_error(a, b)
    outs = {
        "bce": obj.binary_crossentropy(p, t),
        "bce_col": obj.binary_crossentropy(col, t),
        "bce_saturated": obj.binary_crossentropy(pt.clip(t, 0, 1), 1 - t),
        "cce_ids": obj.categorical_crossentropy(probs, ids),
        "cce_onehot": obj.categorical_crossentropy(probs, onehot),
        "cce_soft": obj.categorical_crossentropy(probs, soft),
        "cce_seq": obj.categorical_crossentropy(seq, ids.reshape((2, 3))),
        "sq": loss,
        "sq_col": obj.squared_error(col, t),
        "huber": obj.huber_loss(a, b),
        "huber_d2": obj.huber_loss(a, b, delta=2),
        "hinge": obj.binary_hinge_loss(a, t, log_odds=True),
        "hinge_prob": obj.binary_hinge_loss(p, t, delta=0.5, log_odds=False),
        "hinge_pm1": obj.binary_hinge_loss(a, 2 * t - 1, log_odds=True, binary=False),
        "mc_ids": obj.multiclass_hinge_loss(scores, ids),
        "mc_onehot": obj.multiclass_hinge_loss(scores, onehot, delta=0.5),
        "bacc": obj.binary_accuracy(p, t),
        "bacc_thr": obj.binary_accuracy(p, t, threshold=0.3),
        "cacc": obj.categorical_accuracy(scores, ids),
        "cacc_onehot": obj.categorical_accuracy(scores, onehot),
        "cacc_top2": obj.categorical_accuracy(scores, ids, top_k=2),
        "agg_mean": obj.aggregate(loss),
        "agg_sum": obj.aggregate(loss, mode="sum"),
        "agg_wmean": obj.aggregate(loss, w, mode="mean"),
        "agg_nsum": obj.aggregate(loss, w, mode="normalized_sum"),
    }
    f = pytensor.function([p, t, a, b, w, probs, onehot, soft, scores, ids, col],
                          list(outs.values()))
    res = f(P_BIN, T_BIN, A, B, W, PROBS, ONEHOT, SOFT, SCORES, IDS, P_BIN[:, None])
    return {k: (outs[k], v) for k, v in zip(outs, res)}


def check(values, name, expected, rtol=1e-5, atol=1e-6):
    expr, got = values[name]
    expected = np.asarray(expected)
    assert got.shape == expected.shape, name
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=name)
    return expr


def test_binary_crossentropy(values):
    p, t = P_BIN.astype(float), T_BIN.astype(float)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert check(values, "bce", expected).dtype == pytensor.config.floatX
    # (N, 1) predictions with (N,) targets: a column, not an (N, N) broadcast
    check(values, "bce_col", expected[:, None])
    saturated = values["bce_saturated"][1]  # p = 0 for t = 1 and p = 1 for t = 0
    assert np.all(np.isfinite(saturated)) and np.all(saturated > 10)


def test_categorical_crossentropy_target_formats_agree(values):
    expected = -np.log(PROBS.astype(float)[np.arange(N), IDS])
    check(values, "cce_ids", expected)
    check(values, "cce_onehot", expected)
    check(values, "cce_seq", expected.reshape(2, 3))
    check(values, "cce_soft", -(SOFT * np.log(PROBS.astype(float))).sum(axis=1))


def test_squared_error_and_huber(values):
    d = A.astype(float) - B.astype(float)
    check(values, "sq", d ** 2)
    check(values, "sq_col", (P_BIN.astype(float) - T_BIN)[:, None] ** 2)
    for name, delta in [("huber", 1.0), ("huber_d2", 2.0)]:
        expected = np.where(np.abs(d) <= delta, 0.5 * d ** 2, delta * (np.abs(d) - delta / 2))
        check(values, name, expected)
    assert np.any(np.abs(d) > 2) and np.any(np.abs(d) < 1)  # both branches are exercised


def test_binary_hinge(values):
    s, y = A.astype(float), 2 * T_BIN.astype(float) - 1
    check(values, "hinge", np.maximum(0, 1 - s * y))
    check(values, "hinge_pm1", np.maximum(0, 1 - s * y))
    logit = np.log(P_BIN / (1 - P_BIN.astype(float)))
    check(values, "hinge_prob", np.maximum(0, 0.5 - logit * y), rtol=1e-4)


def test_multiclass_hinge(values):
    s = SCORES.astype(float)
    correct = s[np.arange(N), IDS]
    others = np.where(np.eye(C, dtype=bool)[IDS], -np.inf, s).max(axis=1)
    expr = check(values, "mc_ids", np.maximum(0, others - correct + 1))
    assert expr.dtype == pytensor.config.floatX
    check(values, "mc_onehot", np.maximum(0, others - correct + 0.5))


def test_accuracies(values):
    check(values, "bacc", (P_BIN >= 0.5) == T_BIN)
    check(values, "bacc_thr", (P_BIN >= 0.3) == T_BIN)
    top1 = SCORES.argmax(axis=1) == IDS
    check(values, "cacc", top1)
    check(values, "cacc_onehot", top1)
    top2 = np.argsort(SCORES, axis=1)[:, -2:]
    expected = (top2 == IDS[:, None]).any(axis=1)
    check(values, "cacc_top2", expected)
    assert expected.sum() > top1.sum()  # top-2 is a different (weaker) criterion here


def test_aggregate(values):
    loss = (A.astype(float) - B) ** 2
    check(values, "agg_mean", loss.mean())
    check(values, "agg_sum", loss.sum())
    check(values, "agg_wmean", (loss * W).mean())
    check(values, "agg_nsum", (loss * W).sum() / W.sum())


def test_gradients_match_finite_differences(float64):
    rng = np.random.RandomState(1)
    probs = rng.uniform(0.2, 0.8, size=(4, 3))  # away from 0, where 1/p defeats differences
    ids = np.array([2, 0, 1, 1], dtype="int32")

    def cce(p):
        return obj.categorical_crossentropy(p, pt.constant(ids))

    def huber(a):
        return obj.huber_loss(a, pt.constant(np.zeros(5)), delta=1.0)

    pytensor.gradient.verify_grad(cce, [probs], rng=rng)
    pytensor.gradient.verify_grad(huber, [np.array([-2.0, -0.5, 0.3, 0.9, 3.0])], rng=rng)


def test_binary_hinge_without_log_odds_warns():
    with pytest.warns(FutureWarning, match="log_odds"):
        obj.binary_hinge_loss(pt.vector(), pt.vector())


@pytest.mark.parametrize("call, exc, word", [
    (lambda: obj.aggregate(pt.vector(), mode="normalized_sum"), ValueError, "weights"),
    (lambda: obj.aggregate(pt.vector(), mode="max"), ValueError, "mode"),
    (lambda: obj.categorical_crossentropy(pt.matrix(), pt.tensor3()), TypeError, "rank"),
    (lambda: obj.categorical_crossentropy(pt.matrix(), pt.vector()), TypeError, "integers"),
    (lambda: obj.multiclass_hinge_loss(pt.matrix(), pt.iscalar()), TypeError, "rank"),
    (lambda: obj.categorical_accuracy(pt.matrix(), pt.itensor3()), TypeError, "rank"),
    (lambda: obj.categorical_accuracy(pt.matrix(), pt.ivector(), top_k=0), ValueError, "top_k"),
])
def test_errors(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


# --- softmax_crossentropy (the fused op in rnnlab.nn.ops.crossentropy) ---------------------------

def test_softmax_crossentropy_matches_log_softmax_and_its_gradient(float64):
    from pytensor.tensor.special import log_softmax

    from rnnlab.nn.objectives import softmax_crossentropy

    rng = np.random.default_rng(0)
    z = pt.tensor3("z")
    t = pt.imatrix("t")
    fused = softmax_crossentropy(z, t)
    flat = log_softmax(z, axis=-1).reshape((-1, z.shape[-1]))
    ids = t.flatten()
    plain = -flat[pt.arange(ids.shape[0]), ids].reshape(t.shape)
    weights = pt.as_tensor(rng.random((2, 3)))       # a non-uniform upstream gradient
    fn = pytensor.function([z, t], [fused, plain, pytensor.grad((fused * weights).sum(), z),
                                    pytensor.grad((plain * weights).sum(), z)])
    logits = rng.standard_normal((2, 3, 5)) * 30     # large logits: the max is subtracted
    targets = rng.integers(0, 5, (2, 3)).astype("int32")
    a, b, ga, gb = fn(logits, targets)
    assert a.shape == (2, 3)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-14)


def test_softmax_crossentropy_builds_the_same_op_under_every_mode():
    """The graph never depends on the mode in force while it is built."""
    from rnnlab.nn.ops.crossentropy import SoftmaxCrossEntropy
    from rnnlab.nn.objectives import softmax_crossentropy

    z, t = pt.tensor3("z"), pt.imatrix("t")
    for mode in ("FAST_COMPILE", "CVM", "NUMBA", "JAX"):
        with pytensor.config.change_flags(mode=mode):
            loss = softmax_crossentropy(z, t)
        ops = {type(v.owner.op) for v in pytensor.graph.traversal.ancestors([loss]) if v.owner}
        assert SoftmaxCrossEntropy in ops, mode


def test_softmax_crossentropy_float32_and_bad_targets():
    from rnnlab.nn.objectives import softmax_crossentropy

    z = pt.matrix("z", dtype="float32")
    t = pt.ivector("t")
    fn = pytensor.function([z, t], softmax_crossentropy(z, t))
    logits = np.array([[0.0, 1.0, 2.0], [1e3, 0.0, -1e3]], np.float32)
    expected = [np.log(np.exp([0.0, 1, 2]).sum()) - 2, 2e3]
    np.testing.assert_allclose(fn(logits, np.array([2, 2], np.int32)), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="target 3 at row 1 is outside"):
        fn(logits, np.array([0, 3], np.int32))
    with pytest.raises(TypeError, match="integer targets"):
        softmax_crossentropy(z, pt.vector("f"))
