"""The JAX translations of rnnlab's ops (PyTensor's ``jax_funcify``), for the JAX backend and the GPU.

Each op computes under JAX what its kernel computes (same outputs, same saved arrays, same
gradient semantics), written with ``jax.numpy`` and ``jax.lax.scan``:

* :class:`~rnnlab.nn.ops.recurrence.FusedRecurrence`: the forward loop as one ``lax.scan`` over
  time, batch-parallel per step; :class:`~rnnlab.nn.ops.recurrence.FusedRecurrenceGrad`: the
  hand-derived BPTT of the kernels as a reverse ``lax.scan`` from the saved gates, with masks,
  ``gradient_steps`` (steps before the first visited one pass no gradient) and clipping;
* :class:`~rnnlab.nn.ops.embedding.EmbeddingProjection` and its gradient (projecting the table
  first when there are more ids than rows, as the kernel chooses, with the sizes JAX knows when
  it traces);
* :class:`~rnnlab.nn.ops.crossentropy.SoftmaxCrossEntropy` and its gradient.

Ids and targets are not range-checked under JAX (compiled JAX code cannot raise); the in-place
flags mean nothing there (JAX owns its buffers).

This module imports JAX, so nothing imports it until a function is compiled in a mode that runs
the ``jax`` rewrites: :mod:`rnnlab.nn.ops.jax_rewrites` registers a rewrite under that tag which
imports it.
"""

import jax
import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from .crossentropy import SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad
from .embedding import EmbeddingProjection, EmbeddingProjectionGrad
from .kernels.embedding import via_table
from .recurrence import FusedRecurrence, FusedRecurrenceGrad

__all__ = []


def _keep(mask_t, new, old):
    """Rows whose mask is 0 carry ``old`` over."""
    return jnp.where(mask_t[:, None] != 0, new, old)


def _clip(x, clip):
    return jnp.clip(x, -clip, clip) if clip > 0 else x


def _visited(T, steps):
    """Per step (as a ``(T,)`` bool array): whether the backward pass visits it."""
    first = 0 if steps <= 0 else max(T - steps, 0)
    return jnp.arange(T) >= first, first


def _previous(h0, H):
    """``h_{t-1}`` for every step: ``(T, B, U)``."""
    return jnp.concatenate([h0[None], H[:-1]], axis=0)


# -- forward -------------------------------------------------------------------------------------

def _elman_forward(op):
    act = (lambda z: jnp.maximum(z, 0)) if op.relu else jnp.tanh

    def forward(xp, W, mask, h0):
        def step(h, inputs):
            x_t, m_t = inputs
            new = _keep(m_t, act(x_t + h @ W), h)
            return new, new
        _, H = jax.lax.scan(step, h0, (xp, mask))
        return H
    return forward


def _lstm_forward(op):
    peep = op.peepholes

    def forward(xp, W, mask, h0, c0, P):
        U = W.shape[0]

        def step(carry, inputs):
            h, c = carry
            x_t, m_t = inputs
            a = x_t + h @ W
            i, f, g, o = (a[:, k * U:(k + 1) * U] for k in range(4))
            if peep:
                i, f = i + c * P[0], f + c * P[1]
            i, f, g = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g)
            c_new = f * c + i * g
            if peep:
                o = o + c_new * P[2]
            o = jax.nn.sigmoid(o)
            tc = jnp.tanh(c_new)
            h_new = _keep(m_t, o * tc, h)
            c_new = _keep(m_t, c_new, c)
            return (h_new, c_new), (h_new, c_new, jnp.concatenate([i, f, g, o], axis=1), tc)
        _, (H, C, A, TC) = jax.lax.scan(step, (h0, c0), (xp, mask))
        return H, C, A, TC
    return forward


def _gru_forward(op):
    def forward(xp, W, mask, h0):
        U = W.shape[0]

        def step(h, inputs):
            x_t, m_t = inputs
            hp = h @ W
            r = jax.nn.sigmoid(x_t[:, :U] + hp[:, :U])
            u = jax.nn.sigmoid(x_t[:, U:2 * U] + hp[:, U:2 * U])
            hc = hp[:, 2 * U:]
            c = jnp.tanh(x_t[:, 2 * U:] + r * hc)
            h_new = _keep(m_t, (1 - u) * h + u * c, h)
            return h_new, (h_new, jnp.concatenate([r, u, c], axis=1), hc)
        _, (H, A, HC) = jax.lax.scan(step, h0, (xp, mask))
        return H, A, HC
    return forward


@jax_funcify.register(FusedRecurrence)
def _jax_fused_recurrence(op, node=None, **kwargs):
    return {"elman": _elman_forward, "lstm": _lstm_forward, "gru": _gru_forward}[op.kind](op)


# -- backward ------------------------------------------------------------------------------------

def _elman_backward(op):
    relu, steps, clip = op.relu, op.gradient_steps, op.grad_clipping

    def backward(W, mask, h0, H, dH):
        T = H.shape[0]
        visit, first = _visited(T, steps)

        def step(gh, inputs):
            h_t, dh_t, m_t, v_t = inputs
            g = gh + dh_t
            d = jnp.where(h_t > 0, g, 0) if relu else g * (1 - h_t * h_t)
            real = (m_t != 0)[:, None]
            d = _clip(jnp.where(real & v_t, d, 0), clip)
            carried = jnp.where(real, 0, g)                 # a carried-over row passes g on
            new = jnp.where(v_t, carried + d @ W.T, gh)
            return new, d
        gh, dpre = jax.lax.scan(step, jnp.zeros_like(h0), (H, dH, mask, visit), reverse=True)
        dW = jnp.einsum("tbu,tbg->ug", _previous(h0, H), dpre)
        return dpre, dW, gh if first == 0 else jnp.zeros_like(h0)
    return backward


def _lstm_backward(op):
    peep, steps, clip = op.peepholes, op.gradient_steps, op.grad_clipping

    def backward(W, mask, h0, c0, P, H, C, A, TC, dH, dC):
        T, U = H.shape[0], W.shape[0]
        visit, first = _visited(T, steps)
        Cprev = _previous(c0, C)
        Pz = P if peep else jnp.zeros_like(P)

        def step(carry, inputs):
            gh, gc = carry
            a, tc, cp, dh_t, dc_t, m_t, v_t = inputs
            i, f, g, o = (a[:, k * U:(k + 1) * U] for k in range(4))
            real = (m_t != 0)[:, None] & v_t
            ghu = gh + dh_t
            do = ghu * tc * o * (1 - o)
            gcu = gc + dc_t + ghu * o * (1 - tc * tc) + do * Pz[2]
            di = gcu * g * i * (1 - i)
            df = gcu * cp * f * (1 - f)
            da = jnp.concatenate([di, df, gcu * i * (1 - g * g), do], axis=1)
            da = jnp.where(real, da, 0)
            gc_new = jnp.where(real, gcu * f + di * Pz[0] + df * Pz[1], gc + dc_t)
            da_clipped = _clip(da, clip)
            gh_new = jnp.where(real, 0, ghu) + da_clipped @ W.T
            keep = lambda new, old: jnp.where(v_t, new, old)    # noqa: E731
            return (keep(gh_new, gh), keep(gc_new, gc)), (da_clipped, da)
        (gh, gc), (dA, dA_raw) = jax.lax.scan(step, (jnp.zeros_like(h0), jnp.zeros_like(c0)),
                                              (A, TC, Cprev, dH, dC, mask, visit), reverse=True)
        dW = jnp.einsum("tbu,tbg->ug", _previous(h0, H), dA)
        if peep:
            dP = jnp.stack([jnp.einsum("tbu,tbu->u", dA_raw[..., :U], Cprev),
                            jnp.einsum("tbu,tbu->u", dA_raw[..., U:2 * U], Cprev),
                            jnp.einsum("tbu,tbu->u", dA_raw[..., 3 * U:], C)])
        else:
            dP = jnp.zeros_like(P)
        zero = first != 0
        return (dA, dW, jnp.zeros_like(h0) if zero else gh, jnp.zeros_like(c0) if zero else gc,
                dP)
    return backward


def _gru_backward(op):
    steps, clip = op.gradient_steps, op.grad_clipping

    def backward(W, mask, h0, H, A, HC, dH):
        T, U = H.shape[0], W.shape[0]
        visit, first = _visited(T, steps)
        Hprev = _previous(h0, H)

        def step(gh, inputs):
            a, hc, hp, dh_t, m_t, v_t = inputs
            r, u, c = a[:, :U], a[:, U:2 * U], a[:, 2 * U:]
            real = (m_t != 0)[:, None] & v_t
            g = gh + dh_t
            du = g * (c - hp) * u * (1 - u)
            dcand = g * u * (1 - c * c)
            dr = dcand * hc * r * (1 - r)
            dx = _clip(jnp.where(real, jnp.concatenate([dr, du, dcand], axis=1), 0), clip)
            dp = _clip(jnp.where(real, jnp.concatenate([dr, du, dcand * r], axis=1), 0), clip)
            new = jnp.where(real, g * (1 - u), g) + dp @ W.T
            return jnp.where(v_t, new, gh), (dx, dp)
        gh, (dxp, dhp) = jax.lax.scan(step, jnp.zeros_like(h0), (A, HC, Hprev, dH, mask, visit),
                                      reverse=True)
        dW = jnp.einsum("tbu,tbg->ug", Hprev, dhp)
        return dxp, dW, gh if first == 0 else jnp.zeros_like(h0)
    return backward


@jax_funcify.register(FusedRecurrenceGrad)
def _jax_fused_recurrence_grad(op, node=None, **kwargs):
    return {"elman": _elman_backward, "lstm": _lstm_backward, "gru": _gru_backward}[op.kind](op)


# -- embedding projection and cross-entropy --------------------------------------------------------

@jax_funcify.register(EmbeddingProjection)
def _jax_embedding_projection(op, node=None, **kwargs):
    def embedding_projection(table, W, ids):
        rows = ids.reshape(-1)
        if via_table(rows.shape[0], table.shape[0]):
            out = jnp.take(table @ W, rows, axis=0, mode="wrap")
        else:
            out = jnp.take(table, rows, axis=0, mode="wrap") @ W
        return out.reshape(ids.shape + (W.shape[1],))
    return embedding_projection


@jax_funcify.register(EmbeddingProjectionGrad)
def _jax_embedding_projection_grad(op, node=None, **kwargs):
    def embedding_projection_grad(table, W, ids, g):
        V, G = table.shape[0], W.shape[1]
        rows = jnp.where(ids.reshape(-1) < 0, ids.reshape(-1) + V, ids.reshape(-1))
        g = g.reshape(-1, G)
        if via_table(rows.shape[0], V):
            dP = jnp.zeros((V, G), g.dtype).at[rows].add(g)
            return dP @ W.T, table.T @ dP
        dtable = jnp.zeros(table.shape, g.dtype).at[rows].add(g @ W.T)
        return dtable, jnp.take(table, rows, axis=0).T @ g
    return embedding_projection_grad


@jax_funcify.register(SoftmaxCrossEntropy)
def _jax_softmax_crossentropy(op, node=None, **kwargs):
    def softmax_crossentropy(logits, targets):
        lse = jax.nn.logsumexp(logits, axis=1)
        picked = jnp.take_along_axis(logits, targets[:, None].astype(jnp.int32), axis=1)[:, 0]
        return lse - picked, lse
    return softmax_crossentropy


@jax_funcify.register(SoftmaxCrossEntropyGrad)
def _jax_softmax_crossentropy_grad(op, node=None, **kwargs):
    def softmax_crossentropy_grad(logits, targets, lse, g):
        g = g.astype(logits.dtype)
        onehot = jax.nn.one_hot(targets, logits.shape[1], dtype=logits.dtype)
        return (jnp.exp(logits - lse[:, None]) - onehot) * g[:, None]
    return softmax_crossentropy_grad
