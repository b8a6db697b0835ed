"""Compiled (Numba) loops behind :mod:`~rnnlab.nn.ops.recurrence`: whole-sequence forward and BPTT.

Every kernel works time-major on C-contiguous arrays of one float dtype:

``xp``   ``(T, B, G)``  the input projection ``x W_in + b`` of every step (``G = gates * U``)
``W``    ``(U, G)``     the hidden-to-hidden weights
``mask`` ``(T, B)``     nonzero: the step is real; zero: every state is copied from the last step
``h0``, ``c0`` ``(B, U)`` initial states

The batch is split into row shards (:func:`_shards`) that run on Numba's threads: the rows of a
recurrence are independent, so each thread runs the whole sequence for its rows with no
synchronisation between steps.  Each step costs one ``(rows, U) @ (U, G)`` BLAS product, written
in place and accumulated onto the step's input projection (:func:`rnnlab.nn.ops.kernels.blas.gemm`), and
one pass of elementwise work per row.  The backward pass visits the steps in reverse, keeps the
hidden-state gradient of its rows in one buffer (``gh += dA_t W^T`` in place, with ``W^T`` stored
once per call: BLAS multiplies by a stored matrix faster than by a transposed one) and computes
``dW = sum_t h_{t-1}^T dA_t`` at the end as one product per thread over its share of the steps.

``steps`` is ``gradient_steps``: -1, or ``k > 0`` to visit only the last ``k`` steps in the
backward pass (``scan(truncate_gradient=k)`` semantics: the first visited step is
``max(T - k, 0)``; steps before it get no gradient, nor do the initial states unless it is 0).
``clip > 0`` clips the pre-activation gradients as :func:`pytensor.gradient.grad_clip` does in
the cells.  ``inplace``: the forward pass writes its step pre-activations into ``xp`` (LSTM, GRU:
the gates ``A``; Elman: the states ``H``) and the backward pass writes the gradient of ``xp``
into ``A`` (Elman: into ``dH``); every element is read before it is overwritten.  ``fast``
(float32) evaluates the nonlinearities with :mod:`rnnlab.nn.ops.kernels.fastmath`'s
vectorisable exponential; float64 uses the C library's.

Every kind's kernels share one calling convention (:data:`rnnlab.nn.ops.recurrence.KINDS`
describes it): the forward pass takes ``xp, W, mask``, the initial states (``h0``; LSTM:
``h0, c0``), the extra weights (LSTM: the peepholes ``P`` ``(3, U)``), the kind's option (Elman:
``relu``; LSTM: ``peep``), ``fast`` and ``inplace``, and returns the state sequences then the
arrays it saves for the backward pass; the backward pass takes the same inputs but ``xp``, the
forward pass's outputs, the gradients of the state sequences, the option, ``steps``, ``clip``
and ``inplace``, and returns the gradients of ``xp``, ``W``, the initial states and the extra
weights.
"""

import numba
import numpy as np

from .blas import gemm
from .fastmath import jit, sigmoid_ as _sigmoid, tanh_ as _tanh
from .threads import thread_count

__all__ = ["elman_forward", "elman_backward", "lstm_forward", "lstm_backward", "gru_forward",
           "gru_backward"]

#: Fewer rows than this per shard do not pay for a thread.
MIN_ROWS = 8

#: The drivers: ``prange`` over shards (one shard runs on the calling thread).
pjit = numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")


@jit
def _shards(rows):
    """How many row shards: one per Numba thread (:func:`~.threads.thread_count`, read at run
    time), each at least :data:`MIN_ROWS` rows."""
    return max(1, min(thread_count(), rows // MIN_ROWS))


@jit
def _bounds(shard, n_shards, rows):
    """Rows ``[lo, hi)`` of one shard."""
    return shard * rows // n_shards, (shard + 1) * rows // n_shards


@jit
def _clip_rows(x, clip):
    """In place: clip a C-contiguous 2-d array to ``[-clip, clip]`` when ``clip > 0``."""
    if clip > 0:
        flat = x.reshape(x.size)
        for k in range(flat.shape[0]):
            flat[k] = min(max(flat[k], -clip), clip)


@jit
def _transposed(W):
    """A C-contiguous copy of ``W.T``, in cache-sized tiles: the backward passes multiply by
    ``W^T`` every step, and for a few rows BLAS multiplies by a stored matrix faster than by a
    transposed one (docs/benchmarks.md has the figures)."""
    rows, cols = W.shape
    out = np.empty((cols, rows), W.dtype)
    tile = 32
    for i0 in range(0, rows, tile):
        for j0 in range(0, cols, tile):
            for i in range(i0, min(i0 + tile, rows)):
                for j in range(j0, min(j0 + tile, cols)):
                    out[j, i] = W[i, j]
    return out


@jit
def _first_step(n_steps, steps):
    """The first step the backward pass visits, for ``gradient_steps=steps``."""
    return 0 if steps <= 0 else max(n_steps - steps, 0)


@jit
def _keep_masked(mask_t, lo, new, old):
    """Rows ``b`` with ``mask_t[lo + b] == 0`` of ``new`` get ``old``'s (the state carries over)."""
    for b in range(new.shape[0]):
        if mask_t[lo + b] == 0:
            new[b] = old[b]


@jit
def _pass_masked(mask_t, lo, g, dstate):
    """Backward of :func:`_keep_masked`: a carried-over row passes its gradient on unchanged.
    Returns whether any row of the shard is real."""
    real = False
    for b in range(g.shape[0]):
        if mask_t[lo + b] == 0:
            g[b] += dstate[b]
        else:
            real = True
    return real


@jit
def _initial_gradient(d0, lo, hi, g, first):
    """The initial state's gradient rows: the carried gradient, or zero when truncated."""
    if first == 0:
        d0[lo:hi] = g
    else:
        d0[lo:hi] = 0


@jit
def _weight_gradient_steps(H, h0, dA, t0, t1, out):
    """``out += sum_{t0 <= t < t1} h_{t-1}^T dA_t``: one BLAS product over contiguous memory
    (plus one for ``h0`` when ``t0 == 0``)."""
    T, B, U = H.shape
    G = dA.shape[2]
    if t0 == 0 and t1 > 0:
        gemm(True, False, h0, dA[0], out, 1.0, 1.0)
        t0 = 1
    if t0 < t1:
        rows = (t1 - t0) * B
        gemm(True, False, H[t0 - 1:t1 - 1].reshape(rows, U), dA[t0:t1].reshape(rows, G), out,
             1.0, 1.0)


@pjit
def _weight_gradient(H, h0, dA, first):
    """``sum_t h_{t-1}^T dA_t`` over the visited steps ``t >= first``; with enough rows the steps
    are split between the threads and their partial sums added."""
    T, B, U = H.shape
    G = dA.shape[2]
    n = max(1, min(thread_count(), (T - first) * B // (8 * MIN_ROWS)))
    parts = np.zeros((n, U, G), H.dtype)
    if n == 1:
        _weight_gradient_steps(H, h0, dA, first, T, parts[0])
    else:
        for s in numba.prange(n):
            t0, t1 = _bounds(s, n, T - first)
            _weight_gradient_steps(H, h0, dA, t0 + first, t1 + first, parts[s])
    dW = parts[0]
    for s in range(1, n):
        dW += parts[s]
    return dW


# ----------------------------------------------------------------------------------------------
# Elman: h_t = f(xp_t + h_{t-1} W), f = tanh (relu=False) or max(0, .) (relu=True)

@jit
def _elman_forward_rows(xp, W, mask, h0, relu, fast, lo, hi, H):
    T, B, U = xp.shape
    ibuf = np.empty((hi - lo) * U, np.int32)
    for t in range(T):
        h = h0[lo:hi] if t == 0 else H[t - 1, lo:hi]
        pre = H[t, lo:hi]
        pre[:] = xp[t, lo:hi]
        gemm(False, False, h, W, pre, 1.0, 1.0)
        flat = pre.reshape(pre.size)
        if relu:
            for k in range(flat.shape[0]):
                flat[k] = max(flat[k], 0)
        else:
            _tanh(flat, ibuf, fast)
        _keep_masked(mask[t], lo, pre, h)


@pjit
def elman_forward(xp, W, mask, h0, relu, fast, inplace):
    T, B, U = xp.shape
    H = xp if inplace else np.empty((T, B, U), xp.dtype)
    n = _shards(B)
    if n == 1:                                # no thread to wake for one shard
        _elman_forward_rows(xp, W, mask, h0, relu, fast, 0, B, H)
    else:
        for s in numba.prange(n):
            lo, hi = _bounds(s, n, B)
            _elman_forward_rows(xp, W, mask, h0, relu, fast, lo, hi, H)
    return H


@jit
def _elman_backward_rows(WT, mask, H, dH, relu, first, clip, lo, hi, dpre, dh0):
    T, B, U = H.shape
    gh = np.zeros((hi - lo, U), H.dtype)
    for t in range(T - 1, first - 1, -1):
        d, ht, dht = dpre[t, lo:hi], H[t, lo:hi], dH[t, lo:hi]
        _pass_masked(mask[t], lo, gh, dht)
        for b in range(hi - lo):
            db, g = d[b], gh[b]
            if mask[t, lo + b] == 0:
                db[:] = 0
                continue
            hb, dhb = ht[b], dht[b]
            for u in range(U):
                gu = g[u] + dhb[u]
                db[u] = (gu if hb[u] > 0 else 0) if relu else gu * (1 - hb[u] * hb[u])
                g[u] = 0                                # h_{t-1} reaches h_t through W only
        _clip_rows(d, clip)
        gemm(False, False, d, WT, gh, 1.0, 1.0)
    _initial_gradient(dh0, lo, hi, gh, first)


@pjit
def elman_backward(W, mask, h0, H, dH, relu, steps, clip, inplace):
    T, B, U = H.shape
    first = _first_step(T, steps)
    WT = _transposed(W)
    dpre = dH if inplace else np.empty_like(H)
    dpre[:first] = 0
    dh0 = np.empty((B, U), H.dtype)
    n = _shards(B)
    if n == 1:                                # no thread to wake for one shard
        _elman_backward_rows(WT, mask, H, dH, relu, first, clip, 0, B, dpre, dh0)
    else:
        for s in numba.prange(n):
            lo, hi = _bounds(s, n, B)
            _elman_backward_rows(WT, mask, H, dH, relu, first, clip, lo, hi, dpre, dh0)
    return dpre, _weight_gradient(H, h0, dpre, first), dh0


# ----------------------------------------------------------------------------------------------
# LSTM (gates stacked i, f, g, o; optional peepholes P = (w_ci, w_cf, w_co) of shape (3, U)).
# Saved for the backward pass: A (T, B, 4U) the activated gates, TC (T, B, U) tanh(c_t).

@jit
def _lstm_forward_rows(xp, W, mask, h0, c0, P, peep, fast, lo, hi, H, C, A, TC):
    T, B, G = xp.shape
    U = G // 4
    ibuf = np.empty(G, np.int32)
    for t in range(T):
        h = h0[lo:hi] if t == 0 else H[t - 1, lo:hi]
        c = c0[lo:hi] if t == 0 else C[t - 1, lo:hi]
        a, cn, tc, ht = A[t, lo:hi], C[t, lo:hi], TC[t, lo:hi], H[t, lo:hi]
        a[:] = xp[t, lo:hi]
        gemm(False, False, h, W, a, 1.0, 1.0)
        for b in range(hi - lo):
            ab, cb, cnb, tcb = a[b], c[b], cn[b], tc[b]
            if peep:
                for u in range(U):
                    ab[u] += cb[u] * P[0, u]
                    ab[U + u] += cb[u] * P[1, u]
            _sigmoid(ab[:2 * U], ibuf, fast)
            _tanh(ab[2 * U:3 * U], ibuf, fast)
            for u in range(U):
                cnb[u] = ab[U + u] * cb[u] + ab[u] * ab[2 * U + u]
            if peep:
                for u in range(U):
                    ab[3 * U + u] += cnb[u] * P[2, u]
            _sigmoid(ab[3 * U:], ibuf, fast)
            tcb[:] = cnb
            _tanh(tcb, ibuf, fast)
            for u in range(U):
                ht[b, u] = ab[3 * U + u] * tcb[u]
        _keep_masked(mask[t], lo, ht, h)
        _keep_masked(mask[t], lo, cn, c)


@pjit
def lstm_forward(xp, W, mask, h0, c0, P, peep, fast, inplace):
    T, B, G = xp.shape
    U = G // 4
    H = np.empty((T, B, U), xp.dtype)
    C = np.empty((T, B, U), xp.dtype)
    A = xp if inplace else np.empty((T, B, G), xp.dtype)
    TC = np.empty((T, B, U), xp.dtype)
    n = _shards(B)
    if n == 1:                                # no thread to wake for one shard
        _lstm_forward_rows(xp, W, mask, h0, c0, P, peep, fast, 0, B, H, C, A, TC)
    else:
        for s in numba.prange(n):
            lo, hi = _bounds(s, n, B)
            _lstm_forward_rows(xp, W, mask, h0, c0, P, peep, fast, lo, hi, H, C, A, TC)
    return H, C, A, TC


@jit
def _lstm_backward_rows(WT, mask, c0, P, peep, C, A, TC, dH, dC, first, clip, lo, hi,
                        dA, dP, dh0, dc0):
    T, B, G = A.shape
    U = G // 4
    gh = np.zeros((hi - lo, U), A.dtype)
    gc = np.zeros((hi - lo, U), A.dtype)
    for t in range(T - 1, first - 1, -1):
        cprev = c0[lo:hi] if t == 0 else C[t - 1, lo:hi]
        da, dht, dct = dA[t, lo:hi], dH[t, lo:hi], dC[t, lo:hi]
        _pass_masked(mask[t], lo, gh, dht)
        _pass_masked(mask[t], lo, gc, dct)
        for b in range(hi - lo):
            dab = da[b]
            if mask[t, lo + b] == 0:                    # both states carried over unchanged
                dab[:] = 0
                continue
            ab, tcb, ghb, gcb, cpb = A[t, lo + b], TC[t, lo + b], gh[b], gc[b], cprev[b]
            dhb, dcb = dht[b], dct[b]
            for u in range(U):                          # P is zero without peepholes
                i, f, g, o, tc = ab[u], ab[U + u], ab[2 * U + u], ab[3 * U + u], tcb[u]
                ghu = ghb[u] + dhb[u]
                do = ghu * tc * o * (1 - o)
                gcu = gcb[u] + dcb[u] + ghu * o * (1 - tc * tc) + do * P[2, u]
                di = gcu * g * i * (1 - i)
                df = gcu * cpb[u] * f * (1 - f)
                dab[u], dab[U + u], dab[2 * U + u], dab[3 * U + u] = \
                    di, df, gcu * i * (1 - g * g), do
                gcb[u] = gcu * f + di * P[0, u] + df * P[1, u]
                ghb[u] = 0                              # h_{t-1} reaches h_t through W only
            if peep:
                ctb = C[t, lo + b]
                for u in range(U):
                    dP[0, u] += dab[u] * cpb[u]
                    dP[1, u] += dab[U + u] * cpb[u]
                    dP[2, u] += dab[3 * U + u] * ctb[u]
        _clip_rows(da, clip)
        gemm(False, False, da, WT, gh, 1.0, 1.0)
    _initial_gradient(dh0, lo, hi, gh, first)
    _initial_gradient(dc0, lo, hi, gc, first)


@pjit
def lstm_backward(W, mask, h0, c0, P, H, C, A, TC, dH, dC, peep, steps, clip, inplace):
    T, B, G = A.shape
    U = G // 4
    first = _first_step(T, steps)
    WT = _transposed(W)
    dA = A if inplace else np.empty((T, B, G), A.dtype)
    dA[:first] = 0
    dh0 = np.empty((B, U), A.dtype)
    dc0 = np.empty((B, U), A.dtype)
    n = _shards(B)
    dPs = np.zeros((n, 3, U), A.dtype)
    if n == 1:                                # no thread to wake for one shard
        _lstm_backward_rows(WT, mask, c0, P, peep, C, A, TC, dH, dC, first, clip, 0, B,
                            dA, dPs[0], dh0, dc0)
    else:
        for s in numba.prange(n):
            lo, hi = _bounds(s, n, B)
            _lstm_backward_rows(WT, mask, c0, P, peep, C, A, TC, dH, dC, first, clip, lo, hi,
                                dA, dPs[s], dh0, dc0)
    dP = dPs[0]
    for s in range(1, n):
        dP += dPs[s]
    return dA, _weight_gradient(H, h0, dA, first), dh0, dc0, dP


# ----------------------------------------------------------------------------------------------
# GRU (Lasagne's: reset applied after the product; gates stacked r, u, c).
# Saved: A (T, B, 3U) = r, u, c activated; HC (T, B, U) = the candidate's hidden product h W_hc.

@jit
def _gru_forward_rows(xp, W, mask, h0, fast, lo, hi, H, A, HC):
    T, B, G = xp.shape
    U = G // 3
    ibuf = np.empty(G, np.int32)
    hp = np.empty((hi - lo, G), xp.dtype)
    for t in range(T):
        h = h0[lo:hi] if t == 0 else H[t - 1, lo:hi]
        gemm(False, False, h, W, hp, 1.0, 0.0)
        a, hc, ht = A[t, lo:hi], HC[t, lo:hi], H[t, lo:hi]
        for b in range(hi - lo):
            ab, x, hpb, hcb, hb = a[b], xp[t, lo + b], hp[b], hc[b], h[b]
            for j in range(2 * U):
                ab[j] = x[j] + hpb[j]
            _sigmoid(ab[:2 * U], ibuf, fast)
            for u in range(U):
                hcb[u] = hpb[2 * U + u]
                ab[2 * U + u] = x[2 * U + u] + ab[u] * hcb[u]
            _tanh(ab[2 * U:], ibuf, fast)
            for u in range(U):
                upd = ab[U + u]
                ht[b, u] = (1 - upd) * hb[u] + upd * ab[2 * U + u]
        _keep_masked(mask[t], lo, ht, h)


@pjit
def gru_forward(xp, W, mask, h0, fast, inplace):
    T, B, G = xp.shape
    U = G // 3
    H = np.empty((T, B, U), xp.dtype)
    A = xp if inplace else np.empty((T, B, G), xp.dtype)
    HC = np.empty((T, B, U), xp.dtype)
    n = _shards(B)
    if n == 1:                                # no thread to wake for one shard
        _gru_forward_rows(xp, W, mask, h0, fast, 0, B, H, A, HC)
    else:
        for s in numba.prange(n):
            lo, hi = _bounds(s, n, B)
            _gru_forward_rows(xp, W, mask, h0, fast, lo, hi, H, A, HC)
    return H, A, HC


@jit
def _gru_backward_rows(WT, mask, h0, H, A, HC, dH, first, clip, lo, hi, dxp, dhp, dh0):
    T, B, G = A.shape
    U = G // 3
    gh = np.zeros((hi - lo, U), A.dtype)
    for t in range(T - 1, first - 1, -1):
        h = h0[lo:hi] if t == 0 else H[t - 1, lo:hi]
        dx, dp, dht = dxp[t, lo:hi], dhp[t, lo:hi], dH[t, lo:hi]
        _pass_masked(mask[t], lo, gh, dht)
        for b in range(hi - lo):
            dxb, dpb = dx[b], dp[b]
            if mask[t, lo + b] == 0:
                dxb[:] = 0
                dpb[:] = 0
                continue
            ab, hcb, ghb, dhb, hb = A[t, lo + b], HC[t, lo + b], gh[b], dht[b], h[b]
            for u in range(U):
                r, upd, c = ab[u], ab[U + u], ab[2 * U + u]
                g = ghb[u] + dhb[u]
                du = g * (c - hb[u]) * upd * (1 - upd)
                dcand = g * upd * (1 - c * c)
                dr = dcand * hcb[u] * r * (1 - r)
                dxb[u], dxb[U + u], dxb[2 * U + u] = dr, du, dcand
                dpb[u], dpb[U + u], dpb[2 * U + u] = dr, du, dcand * r
                ghb[u] = g * (1 - upd)
        _clip_rows(dx, clip)
        _clip_rows(dp, clip)
        gemm(False, False, dp, WT, gh, 1.0, 1.0)
    _initial_gradient(dh0, lo, hi, gh, first)


@pjit
def gru_backward(W, mask, h0, H, A, HC, dH, steps, clip, inplace):
    """Returns ``dxp``, ``dW`` and ``dh0``; the input and the hidden products' gradients are
    clipped separately, as the cell clips them."""
    T, B, G = A.shape
    U = G // 3
    first = _first_step(T, steps)
    WT = _transposed(W)
    dxp = A if inplace else np.empty((T, B, G), A.dtype)
    dhp = np.empty((T, B, G), A.dtype)
    dxp[:first] = 0
    dhp[:first] = 0
    dh0 = np.empty((B, U), A.dtype)
    n = _shards(B)
    if n == 1:                                # no thread to wake for one shard
        _gru_backward_rows(WT, mask, h0, H, A, HC, dH, first, clip, 0, B, dxp, dhp, dh0)
    else:
        for s in numba.prange(n):
            lo, hi = _bounds(s, n, B)
            _gru_backward_rows(WT, mask, h0, H, A, HC, dH, first, clip, lo, hi, dxp, dhp, dh0)
    return dxp, _weight_gradient(H, h0, dhp, first), dh0
