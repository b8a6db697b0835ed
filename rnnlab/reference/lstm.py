"""LSTM (Lasagne's ``LSTMLayer``) in numpy, with hand-derived BPTT.

One step, for inputs ``x_t`` ``(B, D)``, previous states ``h``, ``c`` ``(B, U)`` and mask ``m_t``
``(B,)``; ``*`` is elementwise and the peephole weights ``w_c*`` are ``(U,)`` vectors (optional)::

    i  = sigmoid(x_t W_in_to_ingate     + h W_hid_to_ingate     + b_ingate     + c * w_ci)
    f  = sigmoid(x_t W_in_to_forgetgate + h W_hid_to_forgetgate + b_forgetgate + c * w_cf)
    g  = tanh   (x_t W_in_to_cell       + h W_hid_to_cell       + b_cell)
    c~ = f * c + i * g                                   # candidate cell
    o  = sigmoid(x_t W_in_to_outgate    + h W_hid_to_outgate    + b_outgate    + c~ * w_co)
    h~ = o * tanh(c~)                                    # candidate hidden state
    c_t = m_t c~ + (1 - m_t) c ;  h_t = m_t h~ + (1 - m_t) h     # mask 0: copy both states

with ``h_{-1} = h0`` and ``c_{-1} = c0``.  The output peephole sees the *new* cell ``c~``, the
input and forget peepholes the previous one, as in Lasagne.

``gradient_steps=k`` truncates exactly as ``scan(truncate_gradient=k)``: only the last ``k`` steps
are backpropagated, the loss's gradients at earlier steps are dropped, and ``dL/dx_t`` for
``t < T-k``, ``dL/dh0`` and ``dL/dc0`` are zero (unless ``k >= T``).  See
:mod:`rnnlab.reference.elman` for why this is not the "each error goes ``k`` steps back"
truncation of some tutorials.
"""

import numpy as np

from rnnlab.reference._common import (as_float64, check_dH, check_inputs, check_params, make_rng,
                                      num_units_of, sigmoid, truncation_start)

__all__ = ["GATES", "PEEPHOLES", "init_lstm_params", "lstm_forward", "lstm_backward"]

#: The four blocks of an LSTM step, in Lasagne's order; ``'cell'`` is the candidate ``g``.
GATES = ("ingate", "forgetgate", "cell", "outgate")
#: Peephole name per gate (the cell block has none).
PEEPHOLES = {"ingate": "W_cell_to_ingate", "forgetgate": "W_cell_to_forgetgate",
             "outgate": "W_cell_to_outgate"}


def _param_shapes(num_inputs, num_units, peepholes):
    shapes = {}
    for gate in GATES:
        shapes[f"W_in_to_{gate}"] = (num_inputs, num_units)
        shapes[f"W_hid_to_{gate}"] = (num_units, num_units)
        shapes[f"b_{gate}"] = (num_units,)
    if peepholes:
        shapes.update({name: (num_units,) for name in PEEPHOLES.values()})
    return shapes


def _check(params, num_inputs):
    """Checked float64 params, ``U`` and whether peepholes are present (all three or none)."""
    num_units = num_units_of(params, "b_ingate")
    present = [name for name in PEEPHOLES.values() if name in params]
    if present and len(present) != len(PEEPHOLES):
        raise ValueError(f"params has peepholes {present}; expected all of "
                         f"{list(PEEPHOLES.values())} or none")
    peepholes = bool(present)
    return check_params(params, _param_shapes(num_inputs, num_units, peepholes)), num_units, \
        peepholes


def init_lstm_params(num_inputs, num_units, rng, peepholes=True, scale=0.5):
    """Random LSTM parameters for tests: every entry, biases included, from ``N(0, scale**2)``.

    These are not Lasagne's initializers; the biases are non-zero so their gradients are exercised.

    Parameters
    ----------
    num_inputs : int
        ``D``, features per time step.
    num_units : int
        ``U``, hidden units.
    rng : numpy.random.Generator or int
        Random generator or seed.
    peepholes : bool
        Include ``'W_cell_to_ingate'``, ``'W_cell_to_forgetgate'``, ``'W_cell_to_outgate'``.
    scale : float
        Standard deviation of every entry.

    Returns
    -------
    dict of str -> numpy.ndarray
        For each gate in :data:`GATES`: ``'W_in_to_<gate>'`` ``(D, U)``, ``'W_hid_to_<gate>'``
        ``(U, U)``, ``'b_<gate>'`` ``(U,)``; with peepholes three more ``(U,)`` vectors.

    Examples
    --------
    >>> params = init_lstm_params(3, 2, rng=0)
    >>> len(params), params["W_in_to_cell"].shape, params["W_cell_to_outgate"].shape
    (15, (3, 2), (2,))
    >>> len(init_lstm_params(3, 2, rng=0, peepholes=False))
    12
    """
    rng = make_rng(rng)
    return {name: scale * rng.standard_normal(shape)
            for name, shape in _param_shapes(num_inputs, num_units, peepholes).items()}


def lstm_forward(params, x, h0, c0, mask=None):
    """Run the LSTM over a batch of sequences.

    Parameters
    ----------
    params : dict of str -> array_like
        See :func:`init_lstm_params`; peepholes are used when their three keys are present.
    x : array_like, shape ``(B, T, D)``
        Input sequences, batch first.
    h0, c0 : array_like, shape ``(B, U)``
        Initial hidden and cell states.
    mask : None or array_like, shape ``(B, T)``
        1 where a step is real, 0 where both states are copied forward; ``None``: all ones.

    Returns
    -------
    H : numpy.ndarray, shape ``(B, T, U)``
        Hidden states ``h_0 .. h_{T-1}``, float64.
    cache : dict
        What :func:`lstm_backward` needs: the checked inputs, the cell states ``'C'``, the
        candidate cells ``'C_cand'`` and the gate activations ``'gates'`` (each ``(B, T, U)``).

    Examples
    --------
    With all weights zero every gate is ``sigmoid(0) = 0.5`` and ``g = tanh(b_cell)``:

    >>> params = {name: np.zeros(value.shape)
    ...           for name, value in init_lstm_params(1, 1, rng=0, peepholes=False).items()}
    >>> params["b_cell"] = np.array([np.arctanh(0.5)])
    >>> H, cache = lstm_forward(params, np.zeros((1, 2, 1)), np.zeros((1, 1)), np.zeros((1, 1)))
    >>> cache["C"][0, :, 0]                  # c_t = 0.5 c_{t-1} + 0.5 * 0.5
    array([0.25 , 0.375])
    >>> bool(np.allclose(H[0, :, 0], 0.5 * np.tanh([0.25, 0.375])))
    True
    """
    x = as_float64("x", x, 3)
    params, num_units, peepholes = _check(params, x.shape[2])
    x, states, mask = check_inputs(x, {"h0": h0, "c0": c0}, mask, num_units)

    batch, steps, _ = x.shape
    H, C, C_cand = (np.empty((batch, steps, num_units)) for _ in range(3))
    acts = {gate: np.empty((batch, steps, num_units)) for gate in GATES}
    h, c = states["h0"], states["c0"]
    for t in range(steps):
        pre = {gate: x[:, t] @ params[f"W_in_to_{gate}"] + h @ params[f"W_hid_to_{gate}"]
               + params[f"b_{gate}"] for gate in GATES}
        if peepholes:
            pre["ingate"] = pre["ingate"] + c * params["W_cell_to_ingate"]
            pre["forgetgate"] = pre["forgetgate"] + c * params["W_cell_to_forgetgate"]
        i, f, g = sigmoid(pre["ingate"]), sigmoid(pre["forgetgate"]), np.tanh(pre["cell"])
        c_cand = f * c + i * g
        if peepholes:
            pre["outgate"] = pre["outgate"] + c_cand * params["W_cell_to_outgate"]
        o = sigmoid(pre["outgate"])
        h_cand = o * np.tanh(c_cand)
        m = mask[:, t, None]
        c = m * c_cand + (1.0 - m) * c
        h = m * h_cand + (1.0 - m) * h
        H[:, t], C[:, t], C_cand[:, t] = h, c, c_cand
        for gate, value in zip(GATES, (i, f, g, o)):
            acts[gate][:, t] = value
    cache = {"x": x, "h0": states["h0"], "c0": states["c0"], "mask": mask, "H": H, "C": C,
             "C_cand": C_cand, "gates": acts, "peepholes": peepholes}
    return H, cache


def lstm_backward(params, cache, dH, gradient_steps=-1):
    """Backpropagation through time for :func:`lstm_forward`, derived by hand.

    Parameters
    ----------
    params : dict of str -> array_like
        The parameters given to :func:`lstm_forward`.
    cache : dict
        The second result of :func:`lstm_forward`.
    dH : array_like, shape ``(B, T, U)``
        ``dL/dH``, the loss's gradient w.r.t. each returned hidden state (the loss does not read
        the cell states directly, as with Lasagne's ``LSTMLayer`` output).
    gradient_steps : int
        ``-1`` for full BPTT, otherwise ``k >= 1``: only the last ``k`` steps are backpropagated,
        exactly as ``scan(truncate_gradient=k)``.

    Returns
    -------
    dict of str -> numpy.ndarray
        ``dL/d(param)`` for each parameter (same shapes), ``'x'`` ``(B, T, D)``, ``'h0'`` and
        ``'c0'`` ``(B, U)``.

    Examples
    --------
    >>> params = init_lstm_params(2, 3, rng=0)
    >>> x = np.ones((1, 4, 2)); h0 = c0 = np.zeros((1, 3))
    >>> H, cache = lstm_forward(params, x, h0, c0)
    >>> grads = lstm_backward(params, cache, np.ones_like(H), gradient_steps=1)
    >>> grads["x"][0, :3], grads["c0"]          # only the last step is backpropagated
    (array([[0., 0.], [0., 0.], [0., 0.]]), array([[0., 0., 0.]]))
    """
    x, h0, c0, mask, H, C, C_cand, acts = (cache[key] for key in (
        "x", "h0", "c0", "mask", "H", "C", "C_cand", "gates"))
    batch, steps, num_inputs = x.shape
    params, num_units, peepholes = _check(params, num_inputs)
    if peepholes != cache["peepholes"]:
        raise ValueError(f"params has peepholes={peepholes} but the forward pass had "
                         f"peepholes={cache['peepholes']}; expected the same params")
    dH = check_dH(dH, H.shape)
    start = truncation_start(steps, gradient_steps)

    grads = {name: np.zeros_like(value) for name, value in params.items()}
    grads["x"] = np.zeros_like(x)
    dh_next = np.zeros((batch, num_units))        # dL/dh_t arriving from step t+1
    dc_next = np.zeros((batch, num_units))        # dL/dc_t arriving from step t+1
    for t in range(steps - 1, start - 1, -1):
        h_prev = H[:, t - 1] if t > 0 else h0
        c_prev = C[:, t - 1] if t > 0 else c0
        i, f, g, o = (acts[gate][:, t] for gate in GATES)
        c_cand = C_cand[:, t]
        tanh_c = np.tanh(c_cand)
        m = mask[:, t, None]
        dh = dH[:, t] + dh_next                   # the loss reads h_t; step t+1 reads h_t, c_t
        # h_t = m h~ + (1 - m) h_{t-1},  c_t = m c~ + (1 - m) c_{t-1}
        dh_cand, dc_cand = m * dh, m * dc_next
        dh_prev, dc_prev = (1.0 - m) * dh, (1.0 - m) * dc_next
        # h~ = o tanh(c~)                  =>  do = dh~ tanh(c~),  dc~ += dh~ o (1 - tanh(c~)^2)
        # o = sigmoid(a_o), a_o has c~ w_co  =>  da_o = do o (1 - o),  dc~ += da_o w_co
        da = {"outgate": dh_cand * tanh_c * o * (1.0 - o)}
        dc_cand = dc_cand + dh_cand * o * (1.0 - tanh_c ** 2)
        if peepholes:
            dc_cand = dc_cand + da["outgate"] * params["W_cell_to_outgate"]
            grads["W_cell_to_outgate"] += (da["outgate"] * c_cand).sum(axis=0)
        # c~ = f c_{t-1} + i g             =>  df = dc~ c_{t-1}, di = dc~ g, dg = dc~ i,
        #                                       dc_{t-1} += dc~ f
        # i, f = sigmoid(a_i, a_f), g = tanh(a_g)  =>  da = d(gate) * gate'(a)
        da["ingate"] = dc_cand * g * i * (1.0 - i)
        da["forgetgate"] = dc_cand * c_prev * f * (1.0 - f)
        da["cell"] = dc_cand * i * (1.0 - g ** 2)
        dc_prev = dc_prev + dc_cand * f
        if peepholes:                             # a_i, a_f have c_{t-1} w_ci, c_{t-1} w_cf
            for gate in ("ingate", "forgetgate"):
                dc_prev = dc_prev + da[gate] * params[PEEPHOLES[gate]]
                grads[PEEPHOLES[gate]] += (da[gate] * c_prev).sum(axis=0)
        # a_z = x_t W_in_to_z + h_{t-1} W_hid_to_z + b_z for every block z
        for gate in GATES:
            grads[f"W_in_to_{gate}"] += x[:, t].T @ da[gate]
            grads[f"W_hid_to_{gate}"] += h_prev.T @ da[gate]
            grads[f"b_{gate}"] += da[gate].sum(axis=0)
            grads["x"][:, t] += da[gate] @ params[f"W_in_to_{gate}"].T
            dh_prev = dh_prev + da[gate] @ params[f"W_hid_to_{gate}"].T
        dh_next, dc_next = dh_prev, dc_prev
    # Truncated before reaching t = 0: nothing flows into the initial states (scan drops it).
    reached = start == 0
    grads["h0"] = dh_next if reached else np.zeros_like(h0)
    grads["c0"] = dc_next if reached else np.zeros_like(c0)
    return grads
