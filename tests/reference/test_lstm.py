"""Tests of rnnlab.reference.lstm: forward values, hand-derived BPTT, truncation semantics."""

import re

import numpy as np
import pytest

from rnnlab.reference import init_lstm_params, lstm_backward, lstm_forward
from rnnlab.reference.lstm import GATES


def numeric_gradient(loss, array, eps=1e-6):
    """Central differences of ``loss()`` w.r.t. every entry of ``array`` (perturbed in place)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        up = loss()
        array[index] = saved - eps
        down = loss()
        array[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def assert_grad_close(analytic, numeric, name, rtol=1e-6):
    """Relative error ``|a - n| / max(|a|, |n|)`` (whole-array norms) below ``rtol``, non-zero."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    assert scale > 1e-8, f"{name}: gradient is zero, the check would be vacuous"
    error = np.linalg.norm(analytic - numeric) / scale
    assert error < rtol, f"{name}: relative error {error:.2e}"


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def make_problem(batch, steps, num_inputs, num_units, masked, peepholes, seed=0):
    rng = np.random.default_rng(seed)
    params = init_lstm_params(num_inputs, num_units, rng, peepholes=peepholes)
    x = rng.standard_normal((batch, steps, num_inputs))
    h0 = 0.5 * rng.standard_normal((batch, num_units))
    c0 = 0.5 * rng.standard_normal((batch, num_units))
    mask = None
    if masked:                                    # ragged ends plus a hole in the middle
        mask = np.ones((batch, steps))
        mask[0, -2:] = 0
        mask[-1, 1] = 0
    R = rng.standard_normal((batch, steps, num_units))
    return params, x, h0, c0, mask, R


def test_forward_one_unit_with_peepholes_by_hand():
    p = init_lstm_params(1, 1, rng=3)
    v = {name: float(value.ravel()[0]) for name, value in p.items()}
    xs, h, c = [0.7, -1.2], 0.3, -0.4
    H, cache = lstm_forward(p, np.array(xs).reshape(1, 2, 1), [[h]], [[c]])
    for t, x in enumerate(xs):
        i = sig(x * v["W_in_to_ingate"] + h * v["W_hid_to_ingate"] + v["b_ingate"]
                + c * v["W_cell_to_ingate"])
        f = sig(x * v["W_in_to_forgetgate"] + h * v["W_hid_to_forgetgate"] + v["b_forgetgate"]
                + c * v["W_cell_to_forgetgate"])
        g = np.tanh(x * v["W_in_to_cell"] + h * v["W_hid_to_cell"] + v["b_cell"])
        c = f * c + i * g
        o = sig(x * v["W_in_to_outgate"] + h * v["W_hid_to_outgate"] + v["b_outgate"]
                + c * v["W_cell_to_outgate"])
        h = o * np.tanh(c)
        assert np.isclose(H[0, t, 0], h, rtol=1e-14) and np.isclose(cache["C"][0, t, 0], c)


def test_forward_matches_stacked_lasagne_style_formula_with_mask():
    """Stack the four gates into one (D, 4U) matrix, slice the pre-activations, apply switch."""
    params, x, h0, c0, mask, _ = make_problem(3, 4, 2, 3, masked=True, peepholes=True)
    H, cache = lstm_forward(params, x, h0, c0, mask)
    W_in = np.concatenate([params[f"W_in_to_{g}"] for g in GATES], axis=1)
    W_hid = np.concatenate([params[f"W_hid_to_{g}"] for g in GATES], axis=1)
    b = np.concatenate([params[f"b_{g}"] for g in GATES])
    h, c, U = h0, c0, 3
    for t in range(4):
        a = x[:, t] @ W_in + h @ W_hid + b
        i = sig(a[:, :U] + c * params["W_cell_to_ingate"])
        f = sig(a[:, U:2 * U] + c * params["W_cell_to_forgetgate"])
        new_c = f * c + i * np.tanh(a[:, 2 * U:3 * U])
        o = sig(a[:, 3 * U:] + new_c * params["W_cell_to_outgate"])
        keep = mask[:, t, None] == 1
        h = np.where(keep, o * np.tanh(new_c), h)
        c = np.where(keep, new_c, c)
        np.testing.assert_allclose(H[:, t], h, rtol=1e-13)
        np.testing.assert_allclose(cache["C"][:, t], c, rtol=1e-13)
    np.testing.assert_array_equal(H[0, -1], H[0, -3])          # masked tail repeats the state


@pytest.mark.parametrize("shape, masked, peepholes", [
    ((3, 5, 2, 3), True, True),
    ((2, 4, 2, 3), True, False),
    ((1, 4, 2, 1), False, True),                 # batch 1, one unit
])
def test_full_bptt_matches_finite_differences(shape, masked, peepholes):
    params, x, h0, c0, mask, R = make_problem(*shape, masked=masked, peepholes=peepholes)

    def loss():
        return np.sum(lstm_forward(params, x, h0, c0, mask)[0] * R)

    H, cache = lstm_forward(params, x, h0, c0, mask)
    grads = lstm_backward(params, cache, R)
    assert set(grads) == set(params) | {"x", "h0", "c0"}
    for name in params:
        assert_grad_close(grads[name], numeric_gradient(loss, params[name]), name)
    for name, array in (("x", x), ("h0", h0), ("c0", c0)):
        assert_grad_close(grads[name], numeric_gradient(loss, array), name)
    if masked:
        assert np.all(grads["x"][mask == 0] == 0)


@pytest.mark.parametrize("steps_kept", [5, 9])
def test_gradient_steps_at_least_T_is_full_bptt(steps_kept):
    params, x, h0, c0, mask, R = make_problem(2, 5, 2, 3, masked=True, peepholes=True)
    _, cache = lstm_forward(params, x, h0, c0, mask)
    full = lstm_backward(params, cache, R)
    truncated = lstm_backward(params, cache, R, gradient_steps=steps_kept)
    for name in full:
        np.testing.assert_array_equal(truncated[name], full[name], err_msg=name)


@pytest.mark.parametrize("k, masked, peepholes", [(1, False, True), (3, True, True),
                                                  (2, True, False)])
def test_truncated_bptt_is_gradient_of_last_k_steps_from_constant_states(k, masked, peepholes):
    """Independent check: hold h, c at T-k-1 constant, run only the last k steps, differentiate."""
    params, x, h0, c0, mask, R = make_problem(3, 6, 2, 3, masked=masked, peepholes=peepholes,
                                              seed=1)
    steps = x.shape[1]
    H, cache = lstm_forward(params, x, h0, c0, mask)
    grads = lstm_backward(params, cache, R, gradient_steps=k)

    h_start = H[:, steps - k - 1].copy()          # constants: no gradient flows into them
    c_start = cache["C"][:, steps - k - 1].copy()
    x_tail = x[:, steps - k:].copy()
    mask_tail = None if mask is None else mask[:, steps - k:]

    def tail_loss():
        H_tail, _ = lstm_forward(params, x_tail, h_start, c_start, mask_tail)
        return np.sum(H_tail * R[:, steps - k:])

    for name in params:
        assert_grad_close(grads[name], numeric_gradient(tail_loss, params[name]), name)
    assert_grad_close(grads["x"][:, steps - k:], numeric_gradient(tail_loss, x_tail), "x")
    assert np.all(grads["x"][:, :steps - k] == 0)
    assert np.all(grads["h0"] == 0) and np.all(grads["c0"] == 0)
    full = lstm_backward(params, cache, R)
    assert not np.allclose(full["W_hid_to_cell"], grads["W_hid_to_cell"])


def test_matches_pytensor_scan_with_truncate_gradient():
    """The claim "exactly scan(truncate_gradient=k)", checked against PyTensor itself: peepholes,
    a mask, and the input projection precomputed outside scan as Lasagne does by default."""
    import pytensor
    import pytensor.tensor as pt

    k, U = 3, 3
    params, x, h0, c0, mask, R = make_problem(3, 5, 2, U, masked=True, peepholes=True, seed=2)
    names = sorted(params)
    sym = {name: (pt.dvector if params[name].ndim == 1 else pt.dmatrix)(name) for name in names}
    sx, sR, smask = pt.dtensor3("x"), pt.dtensor3("R"), pt.dmatrix("mask")
    sh0, sc0 = pt.dmatrix("h0"), pt.dmatrix("c0")
    W_in = pt.concatenate([sym[f"W_in_to_{g}"] for g in GATES], axis=1)
    W_hid = pt.concatenate([sym[f"W_hid_to_{g}"] for g in GATES], axis=1)
    b = pt.concatenate([sym[f"b_{g}"] for g in GATES])

    def step(a_t, m_t, h_prev, c_prev, W_hid, w_ci, w_cf, w_co):
        a = a_t + h_prev @ W_hid
        i = pt.sigmoid(a[:, :U] + c_prev * w_ci)
        f = pt.sigmoid(a[:, U:2 * U] + c_prev * w_cf)
        c = f * c_prev + i * pt.tanh(a[:, 2 * U:3 * U])
        o = pt.sigmoid(a[:, 3 * U:] + c * w_co)
        h = o * pt.tanh(c)
        keep = m_t[:, None]
        return pt.switch(keep, h, h_prev), pt.switch(keep, c, c_prev)

    projected = (sx @ W_in + b).dimshuffle(1, 0, 2)
    peeps = [sym["W_cell_to_ingate"], sym["W_cell_to_forgetgate"], sym["W_cell_to_outgate"]]
    H, _ = pytensor.scan(step, sequences=[projected, smask.T], outputs_info=[sh0, sc0],
                         non_sequences=[W_hid, *peeps], truncate_gradient=k,
                         return_updates=False)
    H = H.dimshuffle(1, 0, 2)
    wrt = [sym[name] for name in names] + [sx, sh0, sc0]
    f = pytensor.function(wrt + [smask, sR], [H, *pytensor.grad((H * sR).sum(), wrt)])
    H_pt, *grads_pt = f(*[params[name] for name in names], x, h0, c0, mask, R)

    H_ref, cache = lstm_forward(params, x, h0, c0, mask)
    grads = lstm_backward(params, cache, R, gradient_steps=k)
    np.testing.assert_allclose(H_ref, H_pt, rtol=1e-12)
    for name, value in zip(names + ["x", "h0", "c0"], grads_pt):
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(c0=np.zeros((2, 5))), "c0 has shape (2, 5)"),
    (lambda a: a.update(mask=np.full((2, 3), 2.0)), "mask has values"),
    (lambda a: a["params"].pop("W_cell_to_outgate"), "expected all of"),
    (lambda a: a["params"].pop("W_hid_to_cell"), "missing ['W_hid_to_cell']"),
    (lambda a: a["params"].update(b_outgate=np.zeros(3)), "'b_outgate'] has shape (3,)"),
])
def test_bad_forward_arguments_raise(change, message):
    args = {"params": init_lstm_params(2, 4, rng=0), "x": np.zeros((2, 3, 2)),
            "h0": np.zeros((2, 4)), "c0": np.zeros((2, 4)), "mask": None}
    change(args)
    with pytest.raises(ValueError, match=re.escape(message)):
        lstm_forward(**args)


def test_backward_rejects_params_that_do_not_match_the_forward():
    params = init_lstm_params(2, 3, rng=0)
    H, cache = lstm_forward(params, np.zeros((1, 2, 2)), np.zeros((1, 3)), np.zeros((1, 3)))
    no_peepholes = init_lstm_params(2, 3, rng=0, peepholes=False)
    with pytest.raises(ValueError, match="peepholes=False but the forward pass had"):
        lstm_backward(no_peepholes, cache, np.ones_like(H))
    with pytest.raises(ValueError, match="gradient_steps is 0"):
        lstm_backward(params, cache, np.ones_like(H), gradient_steps=0)
