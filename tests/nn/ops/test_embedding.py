"""The embedding projection (rnnlab.nn.ops.embedding): ``table[ids] @ W`` as one op.

The op is checked against the expression it replaces (values, gradients, finite differences) in
both of its run-time branches, its Numba kernels against its numpy ``perform``, its handling of
ids outside the table against ``table[ids]``'s, and the recurrent layers with the rewrite on
against the same layers fed the lookup through a layer computing ``x * 1``, which the op does
not recognise (so PyTensor's own indexing and product run).
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_mode
from pytensor.gradient import verify_grad
from pytensor.graph.traversal import io_toposort

import rnnlab.nn as lasagne
from rnnlab.nn.ops.kernels import embedding as K
from rnnlab.nn.ops.embedding import EmbeddingProjection, EmbeddingProjectionGrad

L = lasagne.layers
V, E, G = 7, 3, 5
# The op projects the whole table first when there are more ids than rows (V = 7), and gathers
# the rows first otherwise.
SHAPES = {"BT_more_ids_than_rows": ((4, 6), True), "N_more_ids_than_rows": ((11,), True),
          "BT_fewer_ids_than_rows": ((2, 3), False), "N_fewer_ids_than_rows": ((4,), False)}
TOLERANCE = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-6}}


def _arrays(shape, dtype, seed=0):
    """A table, W, ids of ``shape`` (repeated and negative ids included) and an output weight."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(-V, V, size=shape).astype("int32")
    ids.flat[1] = ids.flat[0]                          # a repeated id, whatever the draw
    ids.flat[-1] = -1                                  # counts from the end, like table[-1]
    table = rng.standard_normal((V, E)).astype(dtype)
    W = rng.standard_normal((E, G)).astype(dtype)
    weight = rng.standard_normal(shape + (G,)).astype(dtype)
    return table, W, ids, weight


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(SHAPES))
def test_values_and_gradients_match_the_unfused_expression(case, dtype):
    shape, projects_table = SHAPES[case]
    assert K.via_table(int(np.prod(shape)), V) == projects_table      # the branch under test
    table, W, ids, weight = _arrays(shape, dtype)
    t, w = pt.matrix("table", dtype=dtype), pt.matrix("W", dtype=dtype)
    i = pt.tensor("ids", dtype="int32", shape=(None,) * len(shape))
    outputs = []
    for y in (EmbeddingProjection()(t, w, i), pt.dot(t[i], w)):
        outputs += [y, *pytensor.grad((y * weight).sum(), [t, w])]
    values = pytensor.function([t, w, i], outputs)(table, W, ids)
    fused, plain = values[:3], values[3:]
    for name, a, b in zip(["output", "dtable", "dW"], fused, plain):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype], err_msg=f"{case} {name}")


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_both_branches_and_the_numba_kernels_agree_with_perform(case):
    """The kernels (used under NUMBA) give ``perform``'s values whichever branch is forced."""
    shape, _ = SHAPES[case]
    table, W, ids, weight = _arrays(shape, "float64", seed=1)
    t, w = pt.dmatrix("table"), pt.dmatrix("W")
    i = pt.tensor("ids", dtype="int32", shape=(None,) * len(shape))
    out = EmbeddingProjection()(t, w, i)
    grads = EmbeddingProjectionGrad()(t, w, i, pt.as_tensor(weight))
    expected = pytensor.function([t, w, i], [out, *grads])(table, W, ids)
    rows, bad = K.flat_ids(ids, V)
    assert bad == -1
    for via_table in (True, False):
        got = [K.forward(table, W, rows, via_table).reshape(shape + (G,)),
               *K.backward(table, W, rows, weight.reshape(-1, G), via_table)]
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("n_ids", [12, 3])
def test_finite_differences(n_ids, float64):
    ids = np.resize(np.array([3, 0, 3, 6, -2], dtype="int32"), n_ids).reshape(-1, n_ids // 3)
    rng = np.random.default_rng(2)
    verify_grad(lambda t, w: EmbeddingProjection()(t, w, ids),
                [rng.standard_normal((V, E)), rng.standard_normal((E, G))], rng=rng, n_tests=2)


@pytest.mark.parametrize("bad", [V, -V - 1])
def test_ids_outside_the_table_raise_like_the_lookup(bad):
    """``table[ids]`` raises IndexError for such ids in every mode; so do both ops."""
    table, W, ids, weight = _arrays((2, 3), "float64")
    ids[1, 2] = bad
    t, w, i = pt.dmatrix("table"), pt.dmatrix("W"), pt.imatrix("ids")
    forward = pytensor.function([t, w, i], EmbeddingProjection()(t, w, i))
    backward = pytensor.function([t, w, i], EmbeddingProjectionGrad()(t, w, i, weight))
    with pytest.raises(IndexError):
        pytensor.function([t, i], t[i])(table, ids)
    message = rf"id {bad} at index \(1, 2\) is outside \[-7, 7\)"
    with pytest.raises(IndexError, match=message):
        forward(table, W, ids)
    with pytest.raises(IndexError, match=message):
        backward(table, W, ids)
    assert K.flat_ids(ids, V)[1] == 5                  # the kernels see it too (flat position)
    assert K.flat_ids(np.array([2**64 - 1], np.uint64), V)[1] == 0


def test_bad_types_and_sizes_are_rejected():
    with pytest.raises(TypeError, match="integer ids"):
        EmbeddingProjection()(np.ones((3, 2)), np.ones((2, 4)), np.ones(3))
    with pytest.raises(TypeError, match="same dtype"):
        EmbeddingProjection()(np.ones((3, 2)), np.ones((2, 4), "float32"), np.zeros(3, "int32"))
    with pytest.raises(ValueError, match="do not chain"):
        EmbeddingProjection()(np.ones((3, 2)), np.ones((5, 4)), np.zeros(3, "int32")).eval()


# ---------------------------------------------------------------------------------------------
# The rewrite inside the recurrent layers

LAYERS = {
    "lstm": lambda l_in, **kw: L.LSTMLayer(l_in, 4, **kw),
    "gru": lambda l_in, **kw: L.GRULayer(l_in, 4, **kw),
    "elman": lambda l_in, **kw: L.RecurrentLayer(l_in, 4, nonlinearity=lasagne.nonlinearities.tanh,
                                                 **kw),
    # No fused sigmoid Elman: the recurrence runs in scan, after the rewritten projection.
    "elman_scan": lambda l_in, **kw: L.RecurrentLayer(
        l_in, 4, nonlinearity=lasagne.nonlinearities.sigmoid, **kw),
}
VARIANTS = {"plain": {}, "mask_backwards_truncated": {"mask": True, "backwards": True,
                                                       "gradient_steps": 3},
            "unrolled": {"unroll_scan": True}}
CASES = [("lstm", "plain"), ("lstm", "mask_backwards_truncated"), ("lstm", "unrolled"),
         ("gru", "mask_backwards_truncated"), ("elman", "mask_backwards_truncated"),
         ("elman_scan", "mask_backwards_truncated")]
N_STEPS = 6


def _embedded(n_steps=None):
    l_in = L.InputLayer((None, n_steps), input_var=pt.imatrix("ids"))
    return l_in, L.EmbeddingLayer(l_in, V, E, name="embed")


def _build(kind, variant, rewrite):
    options = dict(VARIANTS[variant])
    use_mask = options.pop("mask", False)
    n_steps = N_STEPS if options.get("unroll_scan") else None
    lasagne.random.set_rng(np.random.RandomState(4))
    l_mask = L.InputLayer((None, None))
    l_in, l_emb = _embedded(n_steps)
    if not rewrite:                  # the same values, but no longer a lookup the op recognises
        l_emb = L.ExpressionLayer(l_emb, lambda x: x * 1)
    layer = LAYERS[kind](l_emb, name="rec", mask_input=l_mask if use_mask else None, **options)
    out = L.get_output(layer)
    params = L.get_all_params(layer, trainable=True)
    grads = pytensor.grad((out ** 2).sum() + out.sum(), params)
    inputs = [l_in.input_var] + ([l_mask.input_var] if use_mask else [])
    fn = pytensor.function(inputs, [out, *grads])
    ops = {type(node.op) for node in fn.maker.fgraph.apply_nodes}
    return fn, [p.name for p in params], ops, use_mask


@pytest.mark.parametrize("kind, variant", CASES)
def test_layers_give_the_same_outputs_and_gradients_with_the_rewrite_on_and_off(
        kind, variant, float64):
    ids = np.random.default_rng(5).integers(0, V, size=(3, N_STEPS)).astype("int32")
    mask = np.ones((3, N_STEPS))
    mask[1, 4:] = mask[2, 2] = 0
    results, fns = {}, {}
    for rewrite in (True, False):
        fns[rewrite], names, ops, use_mask = _build(kind, variant, rewrite)
        assert (EmbeddingProjection in ops) == (EmbeddingProjectionGrad in ops) == rewrite
        results[rewrite] = names, fns[rewrite](ids, mask) if use_mask else fns[rewrite](ids)
    assert results[True][0] == results[False][0]          # the same parameters, in order
    assert "embed.W" in results[True][0]
    for name, a, b in zip(["output", *results[True][0]], results[True][1], results[False][1]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{kind} {name}")
    if variant == "unrolled":                            # the length is still checked
        for fn in fns.values():
            with pytest.raises(AssertionError, match="SpecifyShape"):
                fn(ids[:, :4])


def _compiled_ops(inputs, outputs, mode="FAST_COMPILE"):
    fn = pytensor.function(inputs, outputs, mode=mode)
    return {type(n.op) for n in fn.maker.fgraph.apply_nodes}


def _rewritten(build):
    l_in, out = build()
    assert EmbeddingProjection not in {type(n.op) for n in io_toposort([l_in.input_var], [out])}
    return EmbeddingProjection in _compiled_ops([l_in.input_var], out)  # chosen when compiling


def _output(kind="lstm", between=None, **options):
    def build():
        l_in, l_emb = _embedded()
        incoming = between(l_emb) if between else l_emb
        return l_in, L.get_output(LAYERS[kind](incoming, **options))
    return build


def _custom_elman(nonlinearity):
    def build():
        l_in, l_emb = _embedded()
        in_to_hid = L.DenseLayer(L.InputLayer((None, E)), 4, nonlinearity=nonlinearity)
        hid_to_hid = L.DenseLayer(L.InputLayer((None, 4)), 4, nonlinearity=None, b=None)
        return l_in, L.get_output(L.CustomRecurrentLayer(l_emb, in_to_hid, hid_to_hid))
    return build


def test_the_rewrite_applies_wherever_a_lookup_is_projected():
    assert _rewritten(_output())
    assert _rewritten(_custom_elman(None))
    assert _rewritten(_custom_elman(lasagne.nonlinearities.tanh))  # the product inside tanh(.)
    assert _rewritten(_output(precompute_input=False))      # a fused op precomputes anyway
    assert _rewritten(_output("elman_scan"))
    assert not _rewritten(_output("elman_scan", precompute_input=False))  # inside the loop
    assert not _rewritten(_output(between=lambda l: L.ExpressionLayer(l, lambda x: 2 * x)))


def _rows(table, ids, order=(1, 0, 2)):
    xt = table[ids].dimshuffle(*order)
    return xt.reshape((xt.shape[0] * xt.shape[1], xt.shape[2]))


def test_the_rewrite_recognises_only_the_rows_of_a_time_major_lookup():
    table, W, ids = pt.dmatrix("table"), pt.dmatrix("W"), pt.imatrix("ids")
    inputs = [table, W, ids]
    assert EmbeddingProjection in _compiled_ops(inputs, pt.dot(_rows(table, ids), W))
    assert EmbeddingProjection in _compiled_ops(inputs, pt.dot(_rows(2 * table, ids), W))
    batch_major = table[ids].reshape((ids.shape[0] * ids.shape[1], table.shape[1]))
    assert EmbeddingProjection not in _compiled_ops(inputs, pt.dot(batch_major, W))
    sliced = table[ids, 1:].dimshuffle(1, 0, 2)             # not a row lookup
    rows = sliced.reshape((sliced.shape[0] * sliced.shape[1], sliced.shape[2]))
    assert EmbeddingProjection not in _compiled_ops(inputs, pt.dot(rows, W[1:]))


def test_the_gradient_with_respect_to_the_lookup_stays_connected_and_right(float64):
    """The rewrite happens when compiling, so the graph keeps ``table[ids]``: its gradient is
    there to ask for, and asking for it (another reader of the lookup) changes no value."""
    rng = np.random.default_rng(9)
    table, W, ids = pt.dmatrix("table"), pt.dmatrix("W"), pt.imatrix("ids")
    x = table[ids]
    xt = x.dimshuffle(1, 0, 2)
    loss = (pt.dot(xt.reshape((xt.shape[0] * xt.shape[1], xt.shape[2])), W) ** 2).sum()
    grads = pytensor.grad(loss, [table, W, x])
    values = [rng.standard_normal((V, E)), rng.standard_normal((E, G)),
              rng.integers(0, V, (4, 6)).astype("int32")]
    fast = pytensor.function([table, W, ids], grads, mode="FAST_COMPILE")
    plain = pytensor.function([table, W, ids], grads,
                              mode=get_mode("FAST_COMPILE").excluding("rnnlab_embedding_projection"))
    assert EmbeddingProjection in {type(n.op) for n in fast.maker.fgraph.apply_nodes}
    assert EmbeddingProjection not in {type(n.op) for n in plain.maker.fgraph.apply_nodes}
    for a, b in zip(fast(*values), plain(*values)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    t, w, i = values
    expected_dx = 2 * np.einsum("btg,eg->bte", t[i] @ w, w)
    np.testing.assert_allclose(fast(*values)[2], expected_dx, rtol=1e-10)


@pytest.mark.slow
# PyTensor's own Numba Dot warns (at compile time, so only on a cold cache) when a gradient
# multiplies a transposed view; our kernels pass contiguous arrays.
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
def test_numba_backend_matches_python_backend():
    """Under NUMBA both ops are compiled into the function (numba_funcify), not run by perform."""
    fns = {}
    for mode in ("FAST_COMPILE", "NUMBA"):
        lasagne.random.set_rng(np.random.RandomState(6))
        with pytensor.config.change_flags(floatX="float32"):
            l_in, l_emb = _embedded()
            layer = LAYERS["lstm"](l_emb)
            out = L.get_output(layer)
            grads = pytensor.grad((out ** 2).sum(), L.get_all_params(layer, trainable=True))
            fns[mode] = pytensor.function([l_in.input_var], [out, *grads], mode=mode)
    compiled = {type(node.op) for node in fns["NUMBA"].maker.fgraph.toposort()}
    assert {EmbeddingProjection, EmbeddingProjectionGrad} <= compiled
    rng = np.random.default_rng(7)
    for shape in ((3, 5), (1, 2)):                        # 15 ids > V rows, then 2 < V
        ids = rng.integers(-V, V, size=shape).astype("int32")
        for a, b in zip(fns["NUMBA"](ids), fns["FAST_COMPILE"](ids)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for bad in (V, -V - 1):
        with pytest.raises(IndexError, match="outside"):
            fns["NUMBA"](np.array([[0, bad]], "int32"))
