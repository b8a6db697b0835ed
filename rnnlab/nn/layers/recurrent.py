"""Recurrent layers (Lasagne's ``lasagne.layers.recurrent``): Elman, custom, LSTM and GRU.

Each layer creates its parameters and builds a cell (:mod:`~rnnlab.nn.layers.cells`); the loop,
masks, ``backwards``, truncated BPTT (``gradient_steps``), ``unroll_scan``, ``precompute_input``
and ``only_return_final`` are handled once, by :func:`~rnnlab.nn.layers.recur` through
:class:`~rnnlab.nn.layers.BaseRecurrentLayer`.

Inputs are ``(batch, time, features...)``; outputs are ``(batch, time, num_units)``, or
``(batch, num_units)`` with ``only_return_final=True``.  Beyond Lasagne,
``get_output(layer, final_states=states)`` fills ``states[layer]`` with the states after the last
step (``{'hid': ..., 'cell': ...}``), so that a training loop can carry them into the next batch
(see :class:`LSTMLayer`).
"""

import warnings

import numpy as np
from pytensor.graph.basic import Variable
import pytensor.tensor as pt

from .. import init, nonlinearities, utils
from .base import Layer
from ._arguments import accepted_kwargs, check_units
from .cells import ElmanCell, Gate, GRUCell, LSTMCell
from .dense import DenseLayer
from .helper import get_all_layers, get_all_params, get_output
from .input import InputLayer
from .recurrence import BaseRecurrentLayer

__all__ = ["CustomRecurrentLayer", "RecurrentLayer", "LSTMLayer", "GRULayer"]

_UNUSED_KWARGS = r"get_output\(\) was called with unused kwargs"


def _compatible(shape_a, shape_b):
    """True if two shapes have the same length and agree wherever both are known."""
    return len(shape_a) == len(shape_b) and all(
        a is None or b is None or a == b for a, b in zip(shape_a, shape_b))


def _single_input(graph, what):
    if not isinstance(graph, Layer):
        raise TypeError(f"{what}={graph!r}: expected a Layer")
    inputs = [l for l in get_all_layers(graph) if isinstance(l, InputLayer)]
    if len(inputs) != 1:
        raise ValueError(f"{what}: its layer graph has {len(inputs)} InputLayers, expected 1")
    return inputs[0]


def _num_inputs(layer):
    feature_shape = layer.input_shapes[0][2:]
    if any(s is None for s in feature_shape):
        raise ValueError(f"{type(layer).__name__}: input feature shape {feature_shape} must be "
                         "known (only batch and time may be None)")
    return int(np.prod(feature_shape))


def _add_gate(layer, gate, gate_name, num_inputs, nonlinearity_name=None):
    """Create a gate's ``W_in_to_*``, ``W_hid_to_*`` and ``b_*`` and set them as attributes."""
    if not isinstance(gate, Gate):
        raise TypeError(f"{gate_name}={gate!r}: expected a Gate")
    units = layer.num_units
    for attr, spec, shape, tags in ((f"W_in_to_{gate_name}", gate.W_in, (num_inputs, units), {}),
                                    (f"W_hid_to_{gate_name}", gate.W_hid, (units, units), {}),
                                    (f"b_{gate_name}", gate.b, (units,),
                                     {"regularizable": False})):
        setattr(layer, attr, layer.add_param(spec, shape, name=attr, **tags))
    setattr(layer, f"nonlinearity_{nonlinearity_name or gate_name}", gate.nonlinearity)


def _stacked_weights(layer):
    """The gates' ``W_in_to_*``, ``W_hid_to_*`` and ``b_*``, each concatenated along its last axis.

    One matmul then serves all gates.
    """
    return [pt.concatenate([getattr(layer, prefix + g) for g in layer._GATES], axis=-1)
            for prefix in ("W_in_to_", "W_hid_to_", "b_")]


def _plain_matrix(layer):
    """``W`` when ``layer.hidden_to_hidden`` computes ``dot(h, W)`` (a bias-free linear
    :class:`DenseLayer` on an :class:`InputLayer`), else None: such layers can be fused."""
    graph = layer.hidden_to_hidden
    if (type(graph) is DenseLayer and graph.b is None and len(layer.state_shape) == 1
            and graph.nonlinearity in (None, nonlinearities.identity)
            and type(graph.input_layer) is InputLayer and graph.num_leading_axes == 1):
        return graph.W
    return None


class CustomRecurrentLayer(BaseRecurrentLayer):
    """A recurrent layer whose connections are arbitrary layer graphs.

    ``h_t = nonlinearity(input_to_hidden(x_t) + hidden_to_hidden(h_{t-1}))``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input, shape ``(batch, time, features...)``.
    input_to_hidden : Layer
        A graph with one :class:`InputLayer` of shape ``(batch, features...)`` and output
        ``(batch,) + state_shape``.  With ``precompute_input`` it is applied to all time steps at
        once (``batch * time`` rows).
    hidden_to_hidden : Layer
        A graph with one :class:`InputLayer` whose shape equals its output shape,
        ``(batch,) + state_shape``.
    nonlinearity : callable or None
        Applied to the summed pre-activation; ``None`` means identity.
    hid_init : initializer, numpy.ndarray, SharedVariable or Layer
        ``(1,) + state_shape`` parameter, or a layer with output ``(batch,) + state_shape``.
    backwards, learn_init, gradient_steps, grad_clipping, unroll_scan, precompute_input, \
mask_input, only_return_final
        See :class:`~rnnlab.nn.layers.BaseRecurrentLayer`.
    **kwargs
        ``name``.

    Notes
    -----
    The parameters of both graphs are this layer's parameters (:meth:`get_params`).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, CustomRecurrentLayer
    >>> l_in = InputLayer((None, None, 3))
    >>> l_in_hid = DenseLayer(InputLayer((None, 3)), 5, nonlinearity=None)
    >>> l_hid_hid = DenseLayer(InputLayer((None, 5)), 5, nonlinearity=None)
    >>> l_rec = CustomRecurrentLayer(l_in, l_in_hid, l_hid_hid)
    >>> l_rec.output_shape, len(l_rec.get_params(trainable=True))
    ((None, None, 5), 4)
    """

    def __init__(self, incoming, input_to_hidden, hidden_to_hidden,
                 nonlinearity=nonlinearities.rectify, hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0, unroll_scan=False,
                 precompute_input=True, mask_input=None, only_return_final=False, **kwargs):
        super().__init__(incoming, hid_init=hid_init, mask_input=mask_input, backwards=backwards,
                         learn_init=learn_init, gradient_steps=gradient_steps,
                         grad_clipping=grad_clipping, unroll_scan=unroll_scan,
                         precompute_input=precompute_input, only_return_final=only_return_final,
                         **kwargs)
        in_shape = _single_input(input_to_hidden, "input_to_hidden").output_shape
        hid_in_shape = _single_input(hidden_to_hidden, "hidden_to_hidden").output_shape
        in_out, hid_out = input_to_hidden.output_shape, hidden_to_hidden.output_shape
        batch, time = self.input_shapes[0][:2]
        if not _compatible(hid_in_shape[1:], hid_out[1:]):
            raise ValueError(f"hidden_to_hidden: output shape {hid_out} must equal its input "
                             f"shape {hid_in_shape}")
        if not _compatible(in_shape[1:], self.input_shapes[0][2:]):
            raise ValueError(f"input_to_hidden: input shape {in_shape} does not match the "
                             f"features of the incoming shape {self.input_shapes[0]}")
        if not _compatible(in_out[1:], hid_out[1:]):
            raise ValueError(f"input_to_hidden output shape {in_out} and hidden_to_hidden output "
                             f"shape {hid_out} must be equal after the first dimension")
        if precompute_input and None not in (in_out[0], batch, time) and in_out[0] != batch * time:
            raise ValueError(f"input_to_hidden output shape {in_out}: with precompute_input, its "
                             f"first dimension must be None or batch*time = {batch * time}")
        if not precompute_input and not _compatible(in_out[:1], hid_out[:1]):
            raise ValueError(f"input_to_hidden output shape {in_out} and hidden_to_hidden output "
                             f"shape {hid_out} must have the same batch size")
        self.input_to_hidden, self.hidden_to_hidden = input_to_hidden, hidden_to_hidden
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.add_initial_states(hid_out[1:])
        self.get_output_kwargs = sorted(accepted_kwargs(
            get_all_layers([input_to_hidden, hidden_to_hidden])))

    def get_params(self, unwrap_shared=True, **tags):
        """This layer's own parameters (``hid_init``) followed by those of both graphs.

        Parameters
        ----------
        unwrap_shared : bool
        **tags
            As for :meth:`Layer.get_params`.

        Returns
        -------
        list of Variable
        """
        own = super().get_params(unwrap_shared=unwrap_shared, **tags)
        graphs = get_all_params([self.input_to_hidden, self.hidden_to_hidden],
                                unwrap_shared=unwrap_shared, **tags)
        return utils.unique(own + graphs)

    def make_cell(self, **kwargs):
        """An :class:`~rnnlab.nn.layers.ElmanCell` applying both graphs (``kwargs`` forwarded)."""
        def apply(graph, x):
            with warnings.catch_warnings():  # the outer get_output() already checked kwargs
                warnings.filterwarnings("ignore", message=_UNUSED_KWARGS)
                return get_output(graph, x, **kwargs)
        return ElmanCell(lambda x: apply(self.input_to_hidden, x),
                         lambda h: apply(self.hidden_to_hidden, h),
                         self.nonlinearity, self.grad_clipping, W_hid=_plain_matrix(self))


class RecurrentLayer(CustomRecurrentLayer):
    """The Elman network: ``h_t = nonlinearity(x_t W_in_to_hid + h_{t-1} W_hid_to_hid + b)``.

    A :class:`CustomRecurrentLayer` whose graphs are two :class:`DenseLayer` s.

    Parameters
    ----------
    incoming : Layer or tuple
        Input, shape ``(batch, time, features...)`` (feature axes are flattened).
    num_units : int
        ``U``, the number of hidden units.
    W_in_to_hid : initializer, numpy.ndarray or SharedVariable
        ``(features, U)``.
    W_hid_to_hid : initializer, numpy.ndarray or SharedVariable
        ``(U, U)``.
    b : initializer, numpy.ndarray, SharedVariable or None
        ``(U,)``; ``None`` for no bias.
    nonlinearity : callable or None
    hid_init, backwards, learn_init, gradient_steps, grad_clipping, unroll_scan, \
precompute_input, mask_input, only_return_final
        See :class:`CustomRecurrentLayer`.
    **kwargs
        ``name``.

    Attributes
    ----------
    input_to_hidden, hidden_to_hidden : DenseLayer
        The two graphs, named ``'<name>.input_to_hidden'`` and ``'<name>.hidden_to_hidden'``
        (without the prefix for an unnamed layer), as in Lasagne.
    W_in_to_hid, W_hid_to_hid, b : Variable
        Their parameters, so named after the layers that hold them, as Lasagne names them:
        ``'<name>.input_to_hidden.W'``, ``'<name>.hidden_to_hidden.W'``,
        ``'<name>.input_to_hidden.b'`` (unless given as named shared variables), so that
        parameter dictionaries saved by Lasagne programs load by name.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, RecurrentLayer
    >>> l_rec = RecurrentLayer(InputLayer((None, 10, 3)), 4, name='rnn')
    >>> l_rec.output_shape
    (None, 10, 4)
    >>> [p.name for p in l_rec.get_params(trainable=True)]
    ['rnn.input_to_hidden.W', 'rnn.input_to_hidden.b', 'rnn.hidden_to_hidden.W']
    """

    def __init__(self, incoming, num_units, W_in_to_hid=init.Uniform(),
                 W_hid_to_hid=init.Uniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0, unroll_scan=False,
                 precompute_input=True, mask_input=None, only_return_final=False, **kwargs):
        num_units = check_units(num_units)
        basename = f"{kwargs['name']}." if kwargs.get("name") else ""
        input_shape = incoming if isinstance(incoming, tuple) else incoming.output_shape
        if len(input_shape) < 3:
            raise ValueError(f"RecurrentLayer: input shape {input_shape} has {len(input_shape)} "
                             "dimensions, expected at least 3 (batch, time, features...)")
        in_to_hid = DenseLayer(InputLayer((None,) + tuple(input_shape[2:])), num_units,
                               W=W_in_to_hid, b=b, nonlinearity=None,
                               name=basename + "input_to_hidden")
        hid_to_hid = DenseLayer(InputLayer((None, num_units)), num_units, W=W_hid_to_hid, b=None,
                                nonlinearity=None, name=basename + "hidden_to_hidden")
        super().__init__(incoming, in_to_hid, hid_to_hid, nonlinearity=nonlinearity,
                         hid_init=hid_init, backwards=backwards, learn_init=learn_init,
                         gradient_steps=gradient_steps, grad_clipping=grad_clipping,
                         unroll_scan=unroll_scan, precompute_input=precompute_input,
                         mask_input=mask_input, only_return_final=only_return_final, **kwargs)
        self.num_units = num_units
        self.W_in_to_hid, self.W_hid_to_hid, self.b = in_to_hid.W, hid_to_hid.W, in_to_hid.b


class LSTMLayer(BaseRecurrentLayer):
    """A long short-term memory layer, with peephole connections by default.

    The equations are those of :class:`~rnnlab.nn.layers.LSTMCell`: ``c_t = f * c_{t-1} + i * g``,
    ``h_t = o * nonlinearity(c_t)``; the output is the hidden state ``h``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input, shape ``(batch, time, features...)`` (feature axes are flattened).
    num_units : int
        ``U``, the size of the cell and hidden states.
    ingate, forgetgate, cell, outgate : Gate
        Initializers and nonlinearities.  ``cell.W_cell`` is not used; the other gates'
        ``W_cell`` are the peephole weights (required when ``peepholes=True``).
    nonlinearity : callable or None
        Applied to the cell state in the output; ``None`` means identity.
    cell_init, hid_init : initializer, numpy.ndarray, SharedVariable or Layer
        ``(1, U)`` parameters (learned with ``learn_init``) or layers with output ``(batch, U)``.
    peepholes : bool
        Add the diagonal connections ``c * W_cell_to_{ingate,forgetgate,outgate}``.
    backwards, learn_init, gradient_steps, grad_clipping, unroll_scan, precompute_input, \
mask_input, only_return_final
        See :class:`~rnnlab.nn.layers.BaseRecurrentLayer`.
    **kwargs
        ``name``.

    Attributes
    ----------
    W_in_to_ingate, W_hid_to_ingate, b_ingate, ... : Variable
        Per gate (ingate, forgetgate, cell, outgate): ``(features, U)``, ``(U, U)``, ``(U,)``.
    W_cell_to_ingate, W_cell_to_forgetgate, W_cell_to_outgate : Variable
        Peephole weights ``(U,)`` (only with ``peepholes``).
    cell_init, hid_init : Variable or Layer

    Examples
    --------
    Carry the state from one batch to the next (truncated BPTT over a long sequence) without
    recompiling: give the initial states as input layers and ask for the final states.

    >>> import pytensor
    >>> from rnnlab.nn.layers import InputLayer, LSTMLayer, get_output
    >>> l_in = InputLayer((None, None, 3))
    >>> l_hid0, l_cell0 = InputLayer((None, 4)), InputLayer((None, 4))
    >>> l_lstm = LSTMLayer(l_in, 4, hid_init=l_hid0, cell_init=l_cell0)
    >>> states = {}
    >>> out = get_output(l_lstm, final_states=states)
    >>> step = pytensor.function(
    ...     [l_in.input_var, l_hid0.input_var, l_cell0.input_var],
    ...     [out, states[l_lstm]['hid'], states[l_lstm]['cell']])
    >>> x = np.random.rand(2, 10, 3).astype(pytensor.config.floatX)    # (batch, time, features)
    >>> hid = cell = np.zeros((2, 4), dtype=pytensor.config.floatX)
    >>> for chunk in (x[:, :5], x[:, 5:]):
    ...     y, hid, cell = step(chunk, hid, cell)
    >>> np.allclose(y[:, -1], hid), y.shape
    (True, (2, 5, 4))
    """

    _GATES = ("ingate", "forgetgate", "cell", "outgate")

    def __init__(self, incoming, num_units, ingate=Gate(), forgetgate=Gate(),
                 cell=Gate(W_cell=None, nonlinearity=nonlinearities.tanh), outgate=Gate(),
                 nonlinearity=nonlinearities.tanh, cell_init=init.Constant(0.),
                 hid_init=init.Constant(0.), backwards=False, learn_init=False, peepholes=True,
                 gradient_steps=-1, grad_clipping=0, unroll_scan=False, precompute_input=True,
                 mask_input=None, only_return_final=False, **kwargs):
        if cell_init is None:
            raise ValueError("cell_init=None: expected an initializer, array, shared variable "
                             "or Layer")
        super().__init__(incoming, hid_init=hid_init, cell_init=cell_init, mask_input=mask_input,
                         backwards=backwards, learn_init=learn_init,
                         gradient_steps=gradient_steps, grad_clipping=grad_clipping,
                         unroll_scan=unroll_scan, precompute_input=precompute_input,
                         only_return_final=only_return_final, **kwargs)
        self.num_units = check_units(num_units)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.peepholes = bool(peepholes)
        num_inputs = _num_inputs(self)
        gates = dict(zip(self._GATES, (ingate, forgetgate, cell, outgate)))
        for gate_name, gate in gates.items():
            _add_gate(self, gate, gate_name, num_inputs)
        if self.peepholes:
            for gate_name in ("ingate", "forgetgate", "outgate"):
                if gates[gate_name].W_cell is None:
                    raise ValueError(f"{gate_name}.W_cell=None: peepholes=True needs peephole "
                                     "weights for ingate, forgetgate and outgate")
                setattr(self, f"W_cell_to_{gate_name}",
                        self.add_param(gates[gate_name].W_cell, (self.num_units,),
                                       name=f"W_cell_to_{gate_name}"))
        self.add_initial_states((self.num_units,))

    def make_cell(self, **kwargs):
        """An :class:`~rnnlab.nn.layers.LSTMCell` with the gates' weights stacked."""
        peepholes = None
        if self.peepholes:
            peepholes = tuple(getattr(self, f"W_cell_to_{g}")
                              for g in ("ingate", "forgetgate", "outgate"))
        return LSTMCell(self.num_units, *_stacked_weights(self), peepholes=peepholes,
                        gate_nonlinearities=tuple(getattr(self, f"nonlinearity_{g}")
                                                  for g in self._GATES),
                        nonlinearity=self.nonlinearity, grad_clipping=self.grad_clipping)


class GRULayer(BaseRecurrentLayer):
    """A gated recurrent unit layer.

    The equations are those of :class:`~rnnlab.nn.layers.GRUCell`, with the reset gate applied
    after the hidden matrix product: ``c = tanh(x W_xc + r * (h W_hc) + b_c)``,
    ``h_t = (1 - u) * h_{t-1} + u * c``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input, shape ``(batch, time, features...)`` (feature axes are flattened).
    num_units : int
        ``U``, the size of the hidden state.
    resetgate, updategate, hidden_update : Gate
        Initializers and nonlinearities (``W_cell`` is not used).
    hid_init : initializer, numpy.ndarray, SharedVariable or Layer
        A ``(1, U)`` parameter (learned with ``learn_init``) or a layer with output ``(batch, U)``.
    backwards, learn_init, gradient_steps, grad_clipping, unroll_scan, precompute_input, \
mask_input, only_return_final
        See :class:`~rnnlab.nn.layers.BaseRecurrentLayer`.
    **kwargs
        ``name``.

    Attributes
    ----------
    W_in_to_resetgate, W_hid_to_resetgate, b_resetgate, ... : Variable
        Per gate (resetgate, updategate, hidden_update): ``(features, U)``, ``(U, U)``, ``(U,)``.
    hid_init : Variable or Layer

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, GRULayer
    >>> l_gru = GRULayer(InputLayer((None, None, 3)), 4, only_return_final=True)
    >>> l_gru.output_shape, len(l_gru.get_params(trainable=True))
    ((None, 4), 9)
    """

    _GATES = ("resetgate", "updategate", "hidden_update")

    def __init__(self, incoming, num_units, resetgate=Gate(W_cell=None),
                 updategate=Gate(W_cell=None),
                 hidden_update=Gate(W_cell=None, nonlinearity=nonlinearities.tanh),
                 hid_init=init.Constant(0.), backwards=False, learn_init=False, gradient_steps=-1,
                 grad_clipping=0, unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        super().__init__(incoming, hid_init=hid_init, mask_input=mask_input, backwards=backwards,
                         learn_init=learn_init, gradient_steps=gradient_steps,
                         grad_clipping=grad_clipping, unroll_scan=unroll_scan,
                         precompute_input=precompute_input, only_return_final=only_return_final,
                         **kwargs)
        self.num_units = check_units(num_units)
        num_inputs = _num_inputs(self)
        for gate_name, gate in zip(self._GATES, (resetgate, updategate, hidden_update)):
            _add_gate(self, gate, gate_name, num_inputs,
                      nonlinearity_name="hid" if gate_name == "hidden_update" else None)
        self.add_initial_states((self.num_units,))

    def make_cell(self, **kwargs):
        """A :class:`~rnnlab.nn.layers.GRUCell` with the gates' weights stacked."""
        return GRUCell(self.num_units, *_stacked_weights(self),
                       gate_nonlinearities=(self.nonlinearity_resetgate,
                                            self.nonlinearity_updategate, self.nonlinearity_hid),
                       grad_clipping=self.grad_clipping)
