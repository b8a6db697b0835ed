"""Elman network (Lasagne's ``RecurrentLayer``) in numpy, with hand-derived BPTT.

The forward recurrence, for a batch ``x`` of shape ``(B, T, D)`` and a mask ``m`` of shape
``(B, T)``::

    a_t = x_t @ W_in_to_hid + b + h_{t-1} @ W_hid_to_hid     # (B, U) pre-activation
    z_t = phi(a_t)                                           # candidate state, phi = tanh
    h_t = m_t * z_t + (1 - m_t) * h_{t-1}                    # mask 0: copy the state forward

with ``h_{-1} = h0``.  :func:`elman_backward` runs the chain rule backwards through that loop.

Truncated BPTT (``gradient_steps=k``) follows ``scan(truncate_gradient=k)`` exactly, which is what
Lasagne's ``gradient_steps`` passes to Theano/PyTensor: the backward pass visits only the *last*
``k`` steps ``t = T-1 .. T-k``.  Everything that would reach an earlier step is dropped: the
loss's own gradient ``dL/dh_t`` for ``t < T-k``, the parameter terms of those steps, ``dL/dx_t``
for ``t < T-k`` (zero) and ``dL/dh0`` (zero unless ``k >= T``).  This is *not* the truncation of
some tutorials where every step's error travels ``k`` steps back; here only the errors of the
last ``k`` steps count at all.  PyTensor's own toy, ``h_t = 2 h_{t-1} + x_t``, ``h_{-1} = 0``,
``x = [1, 2, 3, 4, 5]``, ``L = sum_t h_t``, ``truncate_gradient=2``, gives ``dL/dx = [0, 0, 0, 3,
1]`` and ``dL/dw = 59``; the Examples of :func:`elman_backward` reproduce it.

Lasagne's ``backwards=True`` runs the same recurrence over the reversed sequence (and truncation
keeps the last *scanned* steps); reverse ``x``, ``mask`` and ``dH`` along time to use it here.
"""

import numpy as np

from rnnlab.reference._common import (as_float64, check_dH, check_inputs, check_params, make_rng,
                                      num_units_of, truncation_start)

__all__ = ["NONLINEARITIES", "init_elman_params", "elman_forward", "elman_backward"]

# name -> (phi, phi' written in terms of phi's output z): all four have that property.
NONLINEARITIES = {
    "tanh": (np.tanh, lambda z: 1.0 - z * z),
    "sigmoid": (lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)), lambda z: z * (1.0 - z)),
    "rectify": (lambda a: np.maximum(a, 0.0), lambda z: (z > 0).astype(np.float64)),
    "linear": (lambda a: a, np.ones_like),
}


def _param_shapes(num_inputs, num_units):
    return {"W_in_to_hid": (num_inputs, num_units), "W_hid_to_hid": (num_units, num_units),
            "b": (num_units,)}


def init_elman_params(num_inputs, num_units, rng, scale=0.5):
    """Random Elman parameters for tests: every entry, biases included, from ``N(0, scale**2)``.

    These are not Lasagne's initializers; the biases are non-zero so their gradients are exercised.

    Parameters
    ----------
    num_inputs : int
        ``D``, features per time step.
    num_units : int
        ``U``, hidden units.
    rng : numpy.random.Generator or int
        Random generator or seed.
    scale : float
        Standard deviation of every entry.

    Returns
    -------
    dict of str -> numpy.ndarray
        ``'W_in_to_hid'`` ``(D, U)``, ``'W_hid_to_hid'`` ``(U, U)``, ``'b'`` ``(U,)``, float64.

    Examples
    --------
    >>> params = init_elman_params(3, 2, rng=0)
    >>> {name: value.shape for name, value in params.items()}
    {'W_in_to_hid': (3, 2), 'W_hid_to_hid': (2, 2), 'b': (2,)}
    """
    rng = make_rng(rng)
    return {name: scale * rng.standard_normal(shape)
            for name, shape in _param_shapes(num_inputs, num_units).items()}


def elman_forward(params, x, h0, mask=None, nonlinearity="tanh"):
    """Run the Elman recurrence over a batch of sequences.

    Parameters
    ----------
    params : dict of str -> array_like
        ``'W_in_to_hid'`` ``(D, U)``, ``'W_hid_to_hid'`` ``(U, U)``, ``'b'`` ``(U,)``.
    x : array_like, shape ``(B, T, D)``
        Input sequences, batch first.
    h0 : array_like, shape ``(B, U)``
        Initial hidden state ``h_{-1}``.
    mask : None or array_like, shape ``(B, T)``
        1 where a step is real, 0 where the previous state is copied forward; ``None``: all ones.
    nonlinearity : {'tanh', 'sigmoid', 'rectify', 'linear'}
        ``phi``; ``'tanh'`` is the Elman network (Lasagne's own default is ``rectify``).

    Returns
    -------
    H : numpy.ndarray, shape ``(B, T, U)``
        Hidden states ``h_0 .. h_{T-1}``, float64.
    cache : dict
        What :func:`elman_backward` needs: the checked inputs and the candidate states ``Z``
        ``(B, T, U)``.

    Examples
    --------
    A one-unit network, ``h_t = tanh(x_t + 0.5 h_{t-1})``, where the second step is masked:

    >>> params = {"W_in_to_hid": [[1.0]], "W_hid_to_hid": [[0.5]], "b": [0.0]}
    >>> H, cache = elman_forward(params, [[[0.5], [9.0], [0.0]]], [[0.0]], mask=[[1, 0, 1]])
    >>> H[0, :, 0]
    array([0.46211716, 0.46211716, 0.22703261])
    >>> bool(np.isclose(H[0, 2, 0], np.tanh(0.5 * np.tanh(0.5))))
    True
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity is {nonlinearity!r}; expected one of "
                         f"{sorted(NONLINEARITIES)}")
    x = as_float64("x", x, 3)
    num_units = num_units_of(params, "b")
    params = check_params(params, _param_shapes(x.shape[2], num_units))
    x, states, mask = check_inputs(x, {"h0": h0}, mask, num_units)
    phi = NONLINEARITIES[nonlinearity][0]

    batch, steps, _ = x.shape
    H = np.empty((batch, steps, num_units))
    Z = np.empty((batch, steps, num_units))
    h = states["h0"]
    for t in range(steps):
        a = x[:, t] @ params["W_in_to_hid"] + params["b"] + h @ params["W_hid_to_hid"]
        Z[:, t] = phi(a)
        m = mask[:, t, None]                      # (B, 1), broadcast over units
        h = m * Z[:, t] + (1.0 - m) * h
        H[:, t] = h
    cache = {"x": x, "h0": states["h0"], "mask": mask, "H": H, "Z": Z,
             "nonlinearity": nonlinearity}
    return H, cache


def elman_backward(params, cache, dH, gradient_steps=-1):
    """Backpropagation through time for :func:`elman_forward`, derived by hand.

    Parameters
    ----------
    params : dict of str -> array_like
        The parameters given to :func:`elman_forward`.
    cache : dict
        The second result of :func:`elman_forward`.
    dH : array_like, shape ``(B, T, U)``
        ``dL/dH``, the loss's gradient w.r.t. each returned hidden state.
    gradient_steps : int
        ``-1`` for full BPTT, otherwise ``k >= 1``: only the last ``k`` steps are backpropagated,
        exactly as ``scan(truncate_gradient=k)`` (see the module docstring).

    Returns
    -------
    dict of str -> numpy.ndarray
        ``dL/d(param)`` for each parameter (same shapes), ``'x'`` ``(B, T, D)`` and ``'h0'``
        ``(B, U)``.

    Examples
    --------
    PyTensor's truncation toy: ``h_t = 2 h_{t-1} + x_t``, ``L = sum_t h_t``, ``k = 2``.

    >>> params = {"W_in_to_hid": [[1.0]], "W_hid_to_hid": [[2.0]], "b": [0.0]}
    >>> x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    >>> H, cache = elman_forward(params, x, np.zeros((1, 1)), nonlinearity="linear")
    >>> H[0, :, 0]
    array([ 1.,  4., 11., 26., 57.])
    >>> grads = elman_backward(params, cache, np.ones_like(H), gradient_steps=2)
    >>> grads["x"][0, :, 0], grads["W_hid_to_hid"]
    (array([0., 0., 0., 3., 1.]), array([[59.]]))
    """
    x, h0, mask, H, Z = (cache[key] for key in ("x", "h0", "mask", "H", "Z"))
    dphi = NONLINEARITIES[cache["nonlinearity"]][1]
    batch, steps, num_inputs = x.shape
    num_units = h0.shape[1]
    params = check_params(params, _param_shapes(num_inputs, num_units))
    dH = check_dH(dH, H.shape)
    start = truncation_start(steps, gradient_steps)
    W_in, W_hid = params["W_in_to_hid"], params["W_hid_to_hid"]

    grads = {name: np.zeros_like(value) for name, value in params.items()}
    grads["x"] = np.zeros_like(x)
    dh_next = np.zeros((batch, num_units))        # dL/dh_t arriving from step t+1
    for t in range(steps - 1, start - 1, -1):
        h_prev = H[:, t - 1] if t > 0 else h0
        m = mask[:, t, None]
        # h_t is used by the loss directly and by step t+1.
        dh = dH[:, t] + dh_next
        # h_t = m z_t + (1 - m) h_{t-1}        =>  dz_t = m dh_t
        # z_t = phi(a_t)                       =>  da_t = dz_t * phi'(a_t)
        da = m * dh * dphi(Z[:, t])
        # a_t = x_t W_in + b + h_{t-1} W_hid   =>  dW_in += x_t^T da_t, db += sum_B da_t,
        #                                          dW_hid += h_{t-1}^T da_t, dx_t = da_t W_in^T
        grads["W_in_to_hid"] += x[:, t].T @ da
        grads["b"] += da.sum(axis=0)
        grads["W_hid_to_hid"] += h_prev.T @ da
        grads["x"][:, t] = da @ W_in.T
        # h_{t-1} reaches the loss through a_t and through the masked copy.
        dh_next = da @ W_hid.T + (1.0 - m) * dh
    # Truncated before reaching t = 0: nothing flows into h0 (scan drops it).
    grads["h0"] = dh_next if start == 0 else np.zeros_like(h0)
    return grads
