"""Compiled (Numba) loops behind :mod:`~rnnlab.nn.layers.fused`: whole-sequence forward and BPTT.

Every kernel works time-major on C-contiguous arrays of one float dtype:

``xp``   ``(T, B, G)``  the input projection ``x W_in + b`` of every step (``G = gates * U``)
``W``    ``(U, G)``     the hidden-to-hidden weights
``mask`` ``(T, B)``     nonzero: the step is real; zero: every state is copied from the last step
``h0``, ``c0`` ``(B, U)`` initial states

Each step costs one ``(B, U) @ (U, G)`` matrix product (BLAS through Numba) and one fused pass of
elementwise work; the backward pass visits the steps in reverse, keeps the hidden-state gradient
in a ``(B, U)`` buffer and computes ``dW`` at the end as one ``(U, T B) @ (T B, G)`` product.
``steps`` is ``gradient_steps``: -1, or ``k > 0`` to visit only the last ``k`` steps in the
backward pass (``scan(truncate_gradient=k)`` semantics: the first visited step is
``max(T - k, 0)``; steps before it get no gradient, nor do the initial states unless it is 0).  ``clip > 0`` clips the pre-activation gradients as
:func:`pytensor.gradient.grad_clip` does in the cells.

``fast`` (float32) evaluates the nonlinearities with :mod:`rnnlab.nn._fastmath`'s vectorisable
exponential; float64 uses the C library's.
"""

import numpy as np

from .._fastmath import jit, sigmoid_ as _sigmoid, tanh_ as _tanh

__all__ = ["elman_forward", "elman_backward", "lstm_forward", "lstm_backward", "gru_forward",
           "gru_backward"]


@jit
def _clip_rows(x, clip):
    """In place: clip a 2-d array to ``[-clip, clip]`` when ``clip > 0``."""
    if clip > 0:
        flat = x.reshape(x.size)
        for k in range(flat.shape[0]):
            flat[k] = min(max(flat[k], -clip), clip)


@jit
def _previous(states, init, t):
    return states[t - 1] if t > 0 else init


@jit
def _first_step(n_steps, steps):
    """The first step the backward pass visits, for ``gradient_steps=steps``."""
    return 0 if steps <= 0 else max(n_steps - steps, 0)


@jit
def _weight_gradient(H, h0, dA, first):
    """``sum_t h_{t-1}^T dA_t`` over the visited steps ``t >= first``: two matrix products
    (``h0`` for step 0, then the stored states), no copies."""
    T, B, U = H.shape
    G = dA.shape[2]
    dW = np.zeros((U, G), H.dtype)
    start = max(first, 1)
    if first == 0:
        dW += np.dot(np.ascontiguousarray(h0.T), np.ascontiguousarray(dA[0]))
    if start < T:
        n = T - start
        prev = np.ascontiguousarray(H[start - 1:T - 1].reshape(n * B, U).T)
        dW += np.dot(prev, np.ascontiguousarray(dA[start:].reshape(n * B, G)))
    return dW


@jit
def _keep_masked(mask_t, new, old):
    """Rows ``b`` with ``mask_t[b] == 0`` of ``new`` get ``old``'s (the state is carried over)."""
    for b in range(new.shape[0]):
        if mask_t[b] == 0:
            new[b] = old[b]


# ----------------------------------------------------------------------------------------------
# Elman: h_t = f(xp_t + h_{t-1} W), f = tanh (relu=False) or max(0, .) (relu=True)

@jit
def elman_forward(xp, W, mask, h0, relu, fast):
    T, B, U = xp.shape
    H = np.empty((T, B, U), xp.dtype)
    ibuf = np.empty(B * U, np.int32)
    for t in range(T):
        h = _previous(H, h0, t)
        pre = np.dot(np.ascontiguousarray(h), W)
        flat, x = pre.reshape(B * U), xp[t].reshape(B * U)
        for k in range(B * U):
            flat[k] += x[k]
        if relu:
            for k in range(B * U):
                flat[k] = max(flat[k], 0)
        else:
            _tanh(flat, ibuf, fast)
        _keep_masked(mask[t], pre, h)
        H[t] = pre
    return H


@jit
def elman_backward(W, mask, h0, H, dH, relu, steps, clip):
    T, B, U = H.shape
    first = _first_step(T, steps)
    dpre = np.zeros_like(H)
    dh = np.zeros((B, U), H.dtype)
    WT = np.ascontiguousarray(W.T)
    for t in range(T - 1, first - 1, -1):
        gh = dh + dH[t]
        d = dpre[t]
        for b in range(B):
            if mask[t, b] == 0:
                continue
            for u in range(U):
                h = H[t, b, u]
                d[b, u] = gh[b, u] * (1 - h * h) if not relu else (gh[b, u] if h > 0 else 0)
            gh[b] = 0                                   # h_{t-1} reaches h_t through W only
        _clip_rows(d, clip)
        dh = np.dot(d, WT) + gh
    dW = _weight_gradient(H, h0, dpre, first)
    dh0 = dh if first == 0 else np.zeros_like(dh)
    return dpre, dW, dh0


# ----------------------------------------------------------------------------------------------
# LSTM (gates stacked i, f, g, o; optional peepholes P = (w_ci, w_cf, w_co) of shape (3, U)).
# Saved for the backward pass: A (T, B, 4U) the activated gates, TC (T, B, U) tanh(c_t).

@jit
def lstm_forward(xp, W, mask, h0, c0, P, peep, fast):
    T, B, G = xp.shape
    U = G // 4
    H = np.empty((T, B, U), xp.dtype)
    C = np.empty((T, B, U), xp.dtype)
    A = np.empty((T, B, G), xp.dtype)
    TC = np.empty((T, B, U), xp.dtype)
    opre = np.empty((B, U), xp.dtype)
    ibuf = np.empty(B * G, np.int32)
    for t in range(T):
        h, c = _previous(H, h0, t), _previous(C, c0, t)
        a = A[t]
        a[:] = np.dot(np.ascontiguousarray(h), W)
        for b in range(B):
            ab, x = a[b], xp[t, b]
            for j in range(G):
                ab[j] += x[j]
            if peep:
                for u in range(U):
                    ab[u] += c[b, u] * P[0, u]
                    ab[U + u] += c[b, u] * P[1, u]
                    opre[b, u] = ab[3 * U + u]
            for u in range(2 * U, 3 * U):               # tanh(x) = 2 sigmoid(2x) - 1
                ab[u] *= 2
        _sigmoid(a.reshape(B * G), ibuf, fast)
        cn, tc = C[t], TC[t]
        for b in range(B):
            ab = a[b]
            for u in range(U):
                g = 2 * ab[2 * U + u] - 1
                ab[2 * U + u] = g
                cn[b, u] = ab[U + u] * c[b, u] + ab[u] * g
                tc[b, u] = 2 * cn[b, u]
            if peep:
                for u in range(U):
                    ab[3 * U + u] = opre[b, u] + cn[b, u] * P[2, u]
                _sigmoid(ab[3 * U:], ibuf, fast)
        _sigmoid(tc.reshape(B * U), ibuf, fast)
        ht = H[t]
        for b in range(B):
            ab = a[b]
            for u in range(U):
                tc[b, u] = 2 * tc[b, u] - 1
                ht[b, u] = ab[3 * U + u] * tc[b, u]
        _keep_masked(mask[t], ht, h)
        _keep_masked(mask[t], cn, c)
    return H, C, A, TC


@jit
def lstm_backward(W, mask, h0, c0, P, peep, H, C, A, TC, dH, dC, steps, clip):
    T, B, G = A.shape
    first = _first_step(T, steps)
    U = G // 4
    dA = np.zeros((T, B, G), A.dtype)
    dP = np.zeros((3, U), A.dtype)
    dh = np.zeros((B, U), A.dtype)
    dc = np.zeros((B, U), A.dtype)
    WT = np.ascontiguousarray(W.T)
    P0, P1, P2 = P[0], P[1], P[2]
    for t in range(T - 1, first - 1, -1):
        gh = dh + dH[t]
        gc = dc + dC[t]
        cprev, ct = _previous(C, c0, t), C[t]
        for b in range(B):
            if mask[t, b] == 0:                         # both states carried over unchanged
                continue
            a, da, tcb = A[t, b], dA[t, b], TC[t, b]
            ghb, gcb, cpb = gh[b], gc[b], cprev[b]
            i_, f_, g_, o_ = a[:U], a[U:2 * U], a[2 * U:3 * U], a[3 * U:]
            di_, df_, dg_, do_ = da[:U], da[U:2 * U], da[2 * U:3 * U], da[3 * U:]
            for u in range(U):                          # P is zero without peepholes
                i, f, g, o, tc = i_[u], f_[u], g_[u], o_[u], tcb[u]
                do = ghb[u] * tc * o * (1 - o)
                gcu = gcb[u] + ghb[u] * o * (1 - tc * tc) + do * P2[u]
                di = gcu * g * i * (1 - i)
                df = gcu * cpb[u] * f * (1 - f)
                di_[u], df_[u], dg_[u], do_[u] = di, df, gcu * i * (1 - g * g), do
                gcb[u] = gcu * f + di * P0[u] + df * P1[u]
                ghb[u] = 0                              # h_{t-1} reaches h_t through W only
            if peep:
                for u in range(U):
                    dP[0, u] += di_[u] * cpb[u]
                    dP[1, u] += df_[u] * cpb[u]
                    dP[2, u] += do_[u] * ct[b, u]
        _clip_rows(dA[t], clip)
        dh = np.dot(dA[t], WT) + gh
        dc = gc
    dW = _weight_gradient(H, h0, dA, first)
    if first > 0:
        dh, dc = np.zeros_like(dh), np.zeros_like(dc)
    return dA, dW, dh, dc, dP


# ----------------------------------------------------------------------------------------------
# GRU (Lasagne's: reset applied after the product; gates stacked r, u, c).
# Saved: A (T, B, 3U) = r, u, c activated; HC (T, B, U) = the candidate's hidden product h W_hc.

@jit
def gru_forward(xp, W, mask, h0, fast):
    T, B, G = xp.shape
    U = G // 3
    H = np.empty((T, B, U), xp.dtype)
    A = np.empty((T, B, G), xp.dtype)
    HC = np.empty((T, B, U), xp.dtype)
    ibuf = np.empty(B * G, np.int32)
    for t in range(T):
        h = _previous(H, h0, t)
        hp = np.dot(np.ascontiguousarray(h), W)
        a, hc = A[t], HC[t]
        for b in range(B):
            ab, x, hpb = a[b], xp[t, b], hp[b]
            for j in range(2 * U):
                ab[j] = x[j] + hpb[j]
            for u in range(U):
                hc[b, u] = hpb[2 * U + u]
        for b in range(B):
            ab, x = a[b], xp[t, b]
            _sigmoid(ab[:2 * U], ibuf, fast)
            for u in range(U):
                ab[2 * U + u] = 2 * (x[2 * U + u] + ab[u] * hc[b, u])
            _sigmoid(ab[2 * U:], ibuf, fast)
        ht = H[t]
        for b in range(B):
            ab = a[b]
            for u in range(U):
                cand = 2 * ab[2 * U + u] - 1
                ab[2 * U + u] = cand
                upd = ab[U + u]
                ht[b, u] = (1 - upd) * h[b, u] + upd * cand
        _keep_masked(mask[t], ht, h)
    return H, A, HC


@jit
def gru_backward(W, mask, h0, H, A, HC, dH, steps, clip):
    """Returns ``dxp``, ``dW`` and ``dh0``; the input and the hidden products' gradients are
    clipped separately, as the cell clips them."""
    T, B, G = A.shape
    U = G // 3
    first = _first_step(T, steps)
    dxp = np.zeros((T, B, G), A.dtype)
    dhp = np.zeros((T, B, G), A.dtype)
    dh = np.zeros((B, U), A.dtype)
    WT = np.ascontiguousarray(W.T)
    for t in range(T - 1, first - 1, -1):
        gh = dh + dH[t]
        h = _previous(H, h0, t)
        for b in range(B):
            if mask[t, b] == 0:
                continue
            a, dx, dp, ghb = A[t, b], dxp[t, b], dhp[t, b], gh[b]
            for u in range(U):
                r, upd, c = a[u], a[U + u], a[2 * U + u]
                g = ghb[u]
                du = g * (c - h[b, u]) * upd * (1 - upd)
                dcand = g * upd * (1 - c * c)
                dr = dcand * HC[t, b, u] * r * (1 - r)
                dx[u], dx[U + u], dx[2 * U + u] = dr, du, dcand
                dp[u], dp[U + u], dp[2 * U + u] = dr, du, dcand * r
                ghb[u] = g * (1 - upd)
        _clip_rows(dxp[t], clip)
        _clip_rows(dhp[t], clip)
        dh = np.dot(dhp[t], WT) + gh
    dW = _weight_gradient(H, h0, dhp, first)
    dh0 = dh if first == 0 else np.zeros_like(dh)
    return dxp, dW, dh0
