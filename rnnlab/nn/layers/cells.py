"""Recurrent cells: one time step of the Elman, LSTM and GRU networks, and Lasagne's :class:`Gate`.

A cell knows nothing about sequences.  It offers two methods that
:func:`~rnnlab.nn.layers.recur` combines into a full recurrence (scan or unrolled loop, masks,
``backwards``, truncated BPTT, precomputed input):

``project(x)``
    The part of the pre-activations that depends on the input only, for a batch of inputs
    ``x`` of shape ``(n, features...)``.  Because it involves no state, the recurrence may compute
    it for every time step at once (``precompute_input=True``), with ``n = time * batch``
    (when ``x`` is an embedding lookup, the compiler makes the lookup and a projection
    ``dot(x, W)`` one op, see :mod:`~rnnlab.nn.ops.embedding`).
``step(x_proj, *states)``
    One time step: the projected input of shape ``(batch, ...)`` and the previous states, each
    ``(batch,) + state_shape``, in the order of ``state_names``; returns the new states in the
    same order.

Cells are built from symbolic weights (shared variables or expressions) when a layer computes its
output; the layers in :mod:`~rnnlab.nn.layers.recurrent` own the parameters.
"""


import pytensor.gradient
import pytensor.tensor as pt

from .. import init, nonlinearities
from ._arguments import check_grad_clipping, check_units

__all__ = ["Gate", "ElmanCell", "LSTMCell", "GRUCell"]


#: The default gate nonlinearities: LSTM (ingate, forgetgate, cell, outgate) and GRU
#: (resetgate, updategate, hidden_update).  Only cells with these are fused.
_LSTM_DEFAULTS = (nonlinearities.sigmoid, nonlinearities.sigmoid, nonlinearities.tanh,
                  nonlinearities.sigmoid)
_GRU_DEFAULTS = (nonlinearities.sigmoid, nonlinearities.sigmoid, nonlinearities.tanh)


def _or_identity(nonlinearity):
    return nonlinearities.identity if nonlinearity is None else nonlinearity


def _clip(x, grad_clipping):
    """Leave ``x`` unchanged forward; clip its gradient to ``[-grad_clipping, grad_clipping]``."""
    if not grad_clipping:
        return x
    return pytensor.gradient.grad_clip(x, -grad_clipping, grad_clipping)


def _slices(x, num_units, count):
    """Split the last axis of ``x`` (``count * num_units`` wide) into ``count`` blocks."""
    return [x[:, k * num_units:(k + 1) * num_units] for k in range(count)]


class Gate:
    """The initializers and nonlinearity of one gate of an LSTM or GRU layer (Lasagne's ``Gate``).

    A gate computes ``nonlinearity(x W_in + h W_hid [+ c * W_cell] + b)``; the layer creates the
    parameters from these specs with shapes ``(num_inputs, num_units)``, ``(num_units,
    num_units)``, ``(num_units,)`` (peephole, LSTM only) and ``(num_units,)``.

    Parameters
    ----------
    W_in, W_hid, W_cell, b : initializer, numpy.ndarray or SharedVariable
        Specs of the input, hidden, peephole (cell) weights and the bias.  ``W_cell=None`` means
        the gate has no peephole connection.
    nonlinearity : callable or None
        Applied to the gate's pre-activation; ``None`` means identity.

    Examples
    --------
    >>> from rnnlab.nn import init, nonlinearities
    >>> from rnnlab.nn.layers import Gate
    >>> gate = Gate(W_cell=None, nonlinearity=nonlinearities.tanh)
    >>> gate.W_cell is None, gate.nonlinearity is nonlinearities.tanh
    (True, True)
    """

    def __init__(self, W_in=init.Normal(0.1), W_hid=init.Normal(0.1), W_cell=init.Normal(0.1),
                 b=init.Constant(0.), nonlinearity=nonlinearities.sigmoid):
        self.W_in = W_in
        self.W_hid = W_hid
        self.W_cell = W_cell
        self.b = b
        self.nonlinearity = _or_identity(nonlinearity)

    def __repr__(self):
        name = getattr(self.nonlinearity, "__name__", type(self.nonlinearity).__name__)
        return f"Gate(nonlinearity={name}, peephole={self.W_cell is not None})"


class ElmanCell:
    """The step of a (generalised) Elman network: ``h_t = f(in(x_t) + hid(h_{t-1}))``.

    Parameters
    ----------
    input_to_hidden : callable
        Maps inputs ``(n, features...)`` to ``(n,) + state_shape``.
    hidden_to_hidden : callable
        Maps states ``(batch,) + state_shape`` to the same shape.
    nonlinearity : callable or None
        ``f``; ``None`` means identity.
    grad_clipping : float
        If non-zero, the gradient flowing through the pre-activation is clipped to
        ``[-grad_clipping, grad_clipping]`` at every step.
    W_hid : tensor, shape ``(U, U)``, optional
        Declares that ``hidden_to_hidden(h)`` is ``dot(h, W_hid)``, which lets
        :func:`~rnnlab.nn.layers.recur` run the cell as one fused op (see :meth:`fused_spec`).

    Attributes
    ----------
    state_names : tuple of str
        ``('hid',)``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.layers import ElmanCell
    >>> cell = ElmanCell(lambda x: 2 * x, lambda h: 0.5 * h, nonlinearity=None)
    >>> (hid,) = cell.step(cell.project(pt.ones((1, 2))), pt.ones((1, 2)))
    >>> hid.eval().tolist()
    [[2.5, 2.5]]
    """

    state_names = ("hid",)

    def __init__(self, input_to_hidden, hidden_to_hidden, nonlinearity=None, grad_clipping=0,
                 W_hid=None):
        self.W_hid = W_hid
        self.input_to_hidden = input_to_hidden
        self.hidden_to_hidden = hidden_to_hidden
        self.nonlinearity = _or_identity(nonlinearity)
        self.grad_clipping = check_grad_clipping(grad_clipping)

    def project(self, x):
        """Input contribution ``in(x)``: ``(n, features...)`` -> ``(n,) + state_shape``."""
        return self.input_to_hidden(x)

    def step(self, x_proj, hid):
        """One step: ``x_proj`` and ``hid`` are ``(batch,) + state_shape``; returns ``(hid,)``."""
        pre = _clip(x_proj + self.hidden_to_hidden(hid), self.grad_clipping)
        return (self.nonlinearity(pre),)

    def fused_spec(self):
        """What :mod:`~rnnlab.nn.ops.recurrence` needs to run this cell as one op, or None.

        Fusable: a ``W_hid`` was given and the nonlinearity is ``tanh`` or ``rectify``.

        Returns
        -------
        dict or None
            ``{'kind': 'elman', 'W_hid': W_hid, 'relu': bool}``.
        """
        known = {nonlinearities.tanh: False, nonlinearities.rectify: True}
        if self.W_hid is None or self.nonlinearity not in known:
            return None
        return {"kind": "elman", "W_hid": self.W_hid, "relu": known[self.nonlinearity]}


class LSTMCell:
    """The step of an LSTM with optional peephole connections (Graves 2013, Lasagne's equations).

    With ``σ`` the gate nonlinearities (sigmoid by default)::

        i = σ(x W_xi + h_{t-1} W_hi + b_i [+ c_{t-1} * w_ci])
        f = σ(x W_xf + h_{t-1} W_hf + b_f [+ c_{t-1} * w_cf])
        g = tanh(x W_xc + h_{t-1} W_hc + b_c)
        c_t = f * c_{t-1} + i * g
        o = σ(x W_xo + h_{t-1} W_ho + b_o [+ c_t * w_co])
        h_t = o * nonlinearity(c_t)

    Parameters
    ----------
    num_units : int
        ``U``, the size of the cell and hidden states.
    W_in : tensor, shape ``(features, 4 U)``
        Input weights of the gates stacked along axis 1 in the order ingate, forgetgate, cell,
        outgate (inputs with several feature axes are flattened).
    W_hid : tensor, shape ``(U, 4 U)``
        Hidden weights, stacked likewise.
    b : tensor, shape ``(4 U,)``
        Biases, stacked likewise.
    peepholes : tuple of three tensors of shape ``(U,)``, or None
        ``(w_ci, w_cf, w_co)``.
    gate_nonlinearities : tuple of four callables
        For ingate, forgetgate, cell (``g``) and outgate; ``None`` entries mean identity.
    nonlinearity : callable or None
        Applied to ``c_t`` in the output.
    grad_clipping : float
        If non-zero, clips the gradient of the stacked pre-activations (before peepholes).

    Attributes
    ----------
    state_names : tuple of str
        ``('hid', 'cell')``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.layers import LSTMCell
    >>> cell = LSTMCell(2, pt.zeros((3, 8)), pt.zeros((2, 8)), pt.zeros(8))
    >>> h, c = cell.step(cell.project(pt.ones((1, 3))), pt.zeros((1, 2)), pt.ones((1, 2)))
    >>> c.eval().tolist()  # f = 0.5, i * g = 0
    [[0.5, 0.5]]
    """

    state_names = ("hid", "cell")

    def __init__(self, num_units, W_in, W_hid, b, peepholes=None,
                 gate_nonlinearities=(nonlinearities.sigmoid, nonlinearities.sigmoid,
                                      nonlinearities.tanh, nonlinearities.sigmoid),
                 nonlinearity=nonlinearities.tanh, grad_clipping=0):
        self.num_units = check_units(num_units)
        self.W_in, self.W_hid, self.b = W_in, W_hid, b
        if peepholes is not None and len(peepholes) != 3:
            raise ValueError(f"peepholes: expected None or 3 vectors (w_ci, w_cf, w_co), got "
                             f"{len(peepholes)}")
        self.peepholes = peepholes
        if len(gate_nonlinearities) != 4:
            raise ValueError(f"gate_nonlinearities: expected 4 callables, got "
                             f"{len(gate_nonlinearities)}")
        self.gate_nonlinearities = tuple(_or_identity(f) for f in gate_nonlinearities)
        self.nonlinearity = _or_identity(nonlinearity)
        self.grad_clipping = check_grad_clipping(grad_clipping)

    def project(self, x):
        """Input contribution ``x W_in + b``: ``(n, features...)`` -> ``(n, 4 U)``."""
        return pt.dot(pt.flatten(x, 2), self.W_in) + self.b

    def step(self, x_proj, hid, cell):
        """One step: ``x_proj`` ``(batch, 4 U)``, states ``(batch, U)``; returns ``(hid, cell)``."""
        gates = _clip(x_proj + pt.dot(hid, self.W_hid), self.grad_clipping)
        ingate, forgetgate, candidate, outgate = _slices(gates, self.num_units, 4)
        if self.peepholes is not None:
            w_ci, w_cf, w_co = self.peepholes
            ingate = ingate + cell * w_ci
            forgetgate = forgetgate + cell * w_cf
        f_in, f_forget, f_cell, f_out = self.gate_nonlinearities
        cell = f_forget(forgetgate) * cell + f_in(ingate) * f_cell(candidate)
        if self.peepholes is not None:
            outgate = outgate + cell * w_co
        hid = f_out(outgate) * self.nonlinearity(cell)
        return hid, cell

    def fused_spec(self):
        """What :mod:`~rnnlab.nn.ops.recurrence` needs to run this cell as one op, or None.

        Fusable: the default nonlinearities (sigmoid gates, ``tanh`` candidate and output).

        Returns
        -------
        dict or None
            ``{'kind': 'lstm', 'W_hid': W_hid, 'extra': [P], 'peepholes': bool}``, ``P`` the
            ``(3, U)`` peephole weights (zeros without peepholes).
        """
        if (self.gate_nonlinearities != _LSTM_DEFAULTS
                or self.nonlinearity is not nonlinearities.tanh):
            return None
        has_peepholes = self.peepholes is not None
        # Zeros sized from W_hid, not a (3, num_units) constant: a constant's value is part of
        # the compiled graph's cache key, so every width would compile its own functions.
        P = (pt.stack(self.peepholes) if has_peepholes
             else pt.zeros((3, self.W_hid.shape[0]), dtype=self.W_hid.dtype))
        return {"kind": "lstm", "W_hid": self.W_hid, "extra": [P], "peepholes": has_peepholes}


class GRUCell:
    """The step of a gated recurrent unit (Cho et al. 2014, Lasagne's equations).

    ::

        r = σ(x W_xr + h_{t-1} W_hr + b_r)
        u = σ(x W_xu + h_{t-1} W_hu + b_u)
        c = tanh(x W_xc + r * (h_{t-1} W_hc) + b_c)      # reset applied after the matmul
        h_t = (1 - u) * h_{t-1} + u * c

    Parameters
    ----------
    num_units : int
        ``U``, the size of the hidden state.
    W_in : tensor, shape ``(features, 3 U)``
        Input weights stacked along axis 1 in the order resetgate, updategate, hidden_update.
    W_hid : tensor, shape ``(U, 3 U)``
        Hidden weights, stacked likewise.
    b : tensor, shape ``(3 U,)``
        Biases, stacked likewise.
    gate_nonlinearities : tuple of three callables
        For resetgate, updategate and hidden_update; ``None`` entries mean identity.
    grad_clipping : float
        If non-zero, clips the gradients of the input and hidden pre-activations.

    Attributes
    ----------
    state_names : tuple of str
        ``('hid',)``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.layers import GRUCell
    >>> cell = GRUCell(2, pt.zeros((3, 6)), pt.zeros((2, 6)), pt.zeros(6))
    >>> (hid,) = cell.step(cell.project(pt.ones((1, 3))), pt.ones((1, 2)))
    >>> hid.eval().tolist()  # u = 0.5, c = 0
    [[0.5, 0.5]]
    """

    state_names = ("hid",)

    def __init__(self, num_units, W_in, W_hid, b,
                 gate_nonlinearities=(nonlinearities.sigmoid, nonlinearities.sigmoid,
                                      nonlinearities.tanh), grad_clipping=0):
        self.num_units = check_units(num_units)
        self.W_in, self.W_hid, self.b = W_in, W_hid, b
        if len(gate_nonlinearities) != 3:
            raise ValueError(f"gate_nonlinearities: expected 3 callables, got "
                             f"{len(gate_nonlinearities)}")
        self.gate_nonlinearities = tuple(_or_identity(f) for f in gate_nonlinearities)
        self.grad_clipping = check_grad_clipping(grad_clipping)

    def project(self, x):
        """Input contribution ``x W_in + b``: ``(n, features...)`` -> ``(n, 3 U)``."""
        return pt.dot(pt.flatten(x, 2), self.W_in) + self.b

    def step(self, x_proj, hid):
        """One step: ``x_proj`` is ``(batch, 3 U)``, ``hid`` ``(batch, U)``; returns ``(hid,)``."""
        x_proj = _clip(x_proj, self.grad_clipping)
        hid_proj = _clip(pt.dot(hid, self.W_hid), self.grad_clipping)
        x_r, x_u, x_c = _slices(x_proj, self.num_units, 3)
        h_r, h_u, h_c = _slices(hid_proj, self.num_units, 3)
        f_reset, f_update, f_hid = self.gate_nonlinearities
        reset = f_reset(x_r + h_r)
        update = f_update(x_u + h_u)
        candidate = f_hid(x_c + reset * h_c)
        return ((1 - update) * hid + update * candidate,)

    def fused_spec(self):
        """What :mod:`~rnnlab.nn.ops.recurrence` needs to run this cell as one op, or None.

        Fusable: the default nonlinearities (sigmoid gates, ``tanh`` candidate).

        Returns
        -------
        dict or None
            ``{'kind': 'gru', 'W_hid': W_hid}``.
        """
        if self.gate_nonlinearities != _GRU_DEFAULTS:
            return None
        return {"kind": "gru", "W_hid": self.W_hid}
