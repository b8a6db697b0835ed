"""Tests of rnnlab.reference.elman: forward values, hand-derived BPTT, truncation semantics."""

import re

import numpy as np
import pytest

from rnnlab.reference import elman_backward, elman_forward, init_elman_params

PARAM_NAMES = ("W_in_to_hid", "W_hid_to_hid", "b")


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


def make_problem(batch, steps, num_inputs, num_units, masked, seed=0):
    rng = np.random.default_rng(seed)
    params = init_elman_params(num_inputs, num_units, rng)
    x = rng.standard_normal((batch, steps, num_inputs))
    h0 = 0.5 * rng.standard_normal((batch, num_units))
    mask = None
    if masked:                                    # ragged ends plus a hole in the middle
        mask = np.ones((batch, steps))
        mask[0, -2:] = 0
        mask[-1, 1] = 0
    R = rng.standard_normal((batch, steps, num_units))
    return params, x, h0, mask, R


def test_forward_one_unit_by_hand():
    params = {"W_in_to_hid": [[2.0]], "W_hid_to_hid": [[-1.0]], "b": [0.25]}
    x = np.array([[[0.5], [1.0], [-3.0]]])
    H, cache = elman_forward(params, x, [[0.5]], mask=[[1, 1, 0]])
    h1 = np.tanh(2 * 0.5 + 0.25 - 0.5)
    h2 = np.tanh(2 * 1.0 + 0.25 - h1)
    np.testing.assert_allclose(H[0, :, 0], [h1, h2, h2], rtol=1e-15)
    assert H.dtype == np.float64 and cache["Z"].shape == (1, 3, 1)


def test_forward_matches_matrix_formula_per_step():
    params, x, h0, _, _ = make_problem(2, 3, 3, 4, masked=False)
    H, _ = elman_forward(params, x, h0)
    h = h0
    for t in range(3):
        h = np.tanh(x[:, t] @ params["W_in_to_hid"] + params["b"] + h @ params["W_hid_to_hid"])
        np.testing.assert_allclose(H[:, t], h, rtol=1e-14)


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "rectify", "linear"])
def test_other_nonlinearities_forward(nonlinearity):
    params = {"W_in_to_hid": [[1.0]], "W_hid_to_hid": [[0.0]], "b": [0.0]}
    H, _ = elman_forward(params, [[[-2.0], [3.0]]], [[0.0]], nonlinearity=nonlinearity)
    expected = {"sigmoid": 1 / (1 + np.exp([2.0, -3.0])), "rectify": [0.0, 3.0],
                "linear": [-2.0, 3.0]}[nonlinearity]
    np.testing.assert_allclose(H[0, :, 0], expected, rtol=1e-14)


@pytest.mark.parametrize("shape, masked, nonlinearity", [
    ((3, 5, 2, 4), True, "tanh"),
    ((1, 4, 3, 1), False, "tanh"),               # batch 1, one unit
    ((2, 4, 2, 3), True, "sigmoid"),
])
def test_full_bptt_matches_finite_differences(shape, masked, nonlinearity):
    params, x, h0, mask, R = make_problem(*shape, masked=masked)

    def loss():
        return np.sum(elman_forward(params, x, h0, mask, nonlinearity)[0] * R)

    H, cache = elman_forward(params, x, h0, mask, nonlinearity)
    grads = elman_backward(params, cache, R)
    for name in PARAM_NAMES:
        assert_grad_close(grads[name], numeric_gradient(loss, params[name]), name)
    assert_grad_close(grads["x"], numeric_gradient(loss, x), "x")
    assert_grad_close(grads["h0"], numeric_gradient(loss, h0), "h0")


def test_masked_steps_pass_gradient_through_untouched():
    params, x, h0, mask, R = make_problem(3, 5, 2, 4, masked=True)
    _, cache = elman_forward(params, x, h0, mask)
    grads = elman_backward(params, cache, R)
    assert np.all(grads["x"][mask == 0] == 0)
    assert np.all(grads["x"][mask == 1] != 0)
    # Sequence 0 is masked at its last two steps: h_{T-1} = h_{T-2} = h_{T-3}, so the loss's
    # gradients there add up and flow back unchanged into step T-3.
    only_last = np.zeros_like(R)
    only_last[0, -1] = R[0, -1]
    only_third = np.zeros_like(R)
    only_third[0, -3] = R[0, -1]
    a = elman_backward(params, cache, only_last)
    b = elman_backward(params, cache, only_third)
    for name in (*PARAM_NAMES, "x", "h0"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-14, err_msg=name)


def test_pytensor_truncation_toy():
    """h_t = w h_{t-1} + x_t, L = sum_t h_t; expected values computed with PyTensor's scan."""
    params = {"W_in_to_hid": [[1.0]], "W_hid_to_hid": [[2.0]], "b": [0.0]}
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    H, cache = elman_forward(params, x, [[0.0]], nonlinearity="linear")
    grads = elman_backward(params, cache, np.ones_like(H), gradient_steps=2)
    np.testing.assert_array_equal(grads["x"][0, :, 0], [0, 0, 0, 3, 1])
    np.testing.assert_array_equal(grads["W_hid_to_hid"], [[59.0]])
    # With h_{-1} = 0.5 PyTensor gives dL/dw = 79 and dL/dh0 = 0 (truncated), and without
    # truncation dL/dx = [31, 15, 7, 3, 1], dL/dw = 166.5, dL/dh0 = 62.
    H, cache = elman_forward(params, x, [[0.5]], nonlinearity="linear")
    grads = elman_backward(params, cache, np.ones_like(H), gradient_steps=2)
    assert grads["W_hid_to_hid"][0, 0] == 79.0 and grads["h0"][0, 0] == 0.0
    full = elman_backward(params, cache, np.ones_like(H))
    np.testing.assert_array_equal(full["x"][0, :, 0], [31, 15, 7, 3, 1])
    assert full["W_hid_to_hid"][0, 0] == 166.5 and full["h0"][0, 0] == 62.0


@pytest.mark.parametrize("steps_kept", [5, 6, 50])
def test_gradient_steps_at_least_T_is_full_bptt(steps_kept):
    params, x, h0, mask, R = make_problem(2, 5, 2, 3, masked=True)
    _, cache = elman_forward(params, x, h0, mask)
    full = elman_backward(params, cache, R)
    truncated = elman_backward(params, cache, R, gradient_steps=steps_kept)
    for name in full:
        np.testing.assert_array_equal(truncated[name], full[name], err_msg=name)


@pytest.mark.parametrize("k, masked", [(1, False), (2, True), (4, True)])
def test_truncated_bptt_is_gradient_of_last_k_steps_from_a_constant_state(k, masked):
    """Independent check: hold h_{T-k-1} constant, run only the last k steps, finite-difference."""
    params, x, h0, mask, R = make_problem(3, 6, 2, 3, masked=masked, seed=1)
    steps = x.shape[1]
    H, cache = elman_forward(params, x, h0, mask)
    grads = elman_backward(params, cache, R, gradient_steps=k)

    h_start = H[:, steps - k - 1].copy()          # a constant: no gradient flows into it
    x_tail = x[:, steps - k:].copy()
    mask_tail = None if mask is None else mask[:, steps - k:]

    def tail_loss():
        return np.sum(elman_forward(params, x_tail, h_start, mask_tail)[0] * R[:, steps - k:])

    for name in PARAM_NAMES:
        assert_grad_close(grads[name], numeric_gradient(tail_loss, params[name]), name)
    assert_grad_close(grads["x"][:, steps - k:], numeric_gradient(tail_loss, x_tail), "x")
    assert np.all(grads["x"][:, :steps - k] == 0)
    assert np.all(grads["h0"] == 0)
    # ... and it really differs from full BPTT.
    full = elman_backward(params, cache, R)
    assert not np.allclose(full["W_hid_to_hid"], grads["W_hid_to_hid"])


def test_matches_pytensor_scan_with_truncate_gradient():
    """The claim "exactly scan(truncate_gradient=k)", checked against PyTensor itself, with a mask
    and the input projection precomputed outside scan as Lasagne does by default."""
    import pytensor
    import pytensor.tensor as pt

    k = 3
    params, x, h0, mask, R = make_problem(3, 5, 2, 4, masked=True, seed=2)
    sx, sR = pt.dtensor3("x"), pt.dtensor3("R")
    smask, sh0, sW_in, sW_hid = pt.dmatrix("mask"), pt.dmatrix("h0"), pt.dmatrix(), pt.dmatrix()
    sb = pt.dvector("b")

    def step(a_t, m_t, h_prev, W_hid):
        h = pt.tanh(a_t + h_prev @ W_hid)
        return pt.switch(m_t[:, None], h, h_prev)

    projected = (sx @ sW_in + sb).dimshuffle(1, 0, 2)
    H = pytensor.scan(step, sequences=[projected, smask.T], outputs_info=[sh0],
                      non_sequences=[sW_hid], truncate_gradient=k, return_updates=False)
    loss = (H.dimshuffle(1, 0, 2) * sR).sum()
    wrt = [sW_in, sW_hid, sb, sx, sh0]
    f = pytensor.function([sW_in, sW_hid, sb, sx, sh0, smask, sR],
                          [H.dimshuffle(1, 0, 2), *pytensor.grad(loss, wrt)])
    H_pt, *grads_pt = f(params["W_in_to_hid"], params["W_hid_to_hid"], params["b"], x, h0, mask,
                        R)

    H_ref, cache = elman_forward(params, x, h0, mask)
    grads = elman_backward(params, cache, R, gradient_steps=k)
    np.testing.assert_allclose(H_ref, H_pt, rtol=1e-12)
    for name, value in zip([*PARAM_NAMES, "x", "h0"], grads_pt):
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(x=np.zeros((2, 3))), "x has shape (2, 3)"),
    (lambda a: a.update(h0=np.zeros((2, 5))), "h0 has shape (2, 5)"),
    (lambda a: a.update(mask=np.full((2, 3), 0.5)), "mask has values"),
    (lambda a: a.update(mask=np.ones((3, 2))), "mask has shape (3, 2)"),
    (lambda a: a["params"].pop("b"), "missing 'b'"),
    (lambda a: a["params"].update(W_hid_to_hid=np.zeros((4, 3))), "'W_hid_to_hid'] has shape"),
    (lambda a: a["params"].update(W_in=np.zeros((2, 4))), "unexpected ['W_in']"),
    (lambda a: a.update(nonlinearity="relu"), "nonlinearity is 'relu'"),
])
def test_bad_forward_arguments_raise(change, message):
    args = {"params": init_elman_params(2, 4, rng=0), "x": np.zeros((2, 3, 2)),
            "h0": np.zeros((2, 4)), "mask": None, "nonlinearity": "tanh"}
    change(args)
    with pytest.raises(ValueError, match=re.escape(message)):
        elman_forward(**args)


@pytest.mark.parametrize("gradient_steps, error", [(0, ValueError), (-2, ValueError),
                                                   (2.0, TypeError), (True, TypeError)])
def test_bad_gradient_steps_raise(gradient_steps, error):
    params = init_elman_params(2, 4, rng=0)
    H, cache = elman_forward(params, np.zeros((1, 3, 2)), np.zeros((1, 4)))
    with pytest.raises(error, match="gradient_steps"):
        elman_backward(params, cache, np.ones_like(H), gradient_steps=gradient_steps)
    with pytest.raises(ValueError, match="dH has shape"):
        elman_backward(params, cache, np.ones((1, 2, 4)))
