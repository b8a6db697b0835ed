"""The layer stacks of the experiment workflow: a character language model and a forecaster.

Both builders take the ``model`` section of a config (:class:`rnnlab.config.ModelConfig`, whose
values are checked when it is made): ``cell``, ``hidden``, ``layers``, ``dropout``,
``embedding``, ``grad_clipping`` and ``gradient_steps``.  The cell type is
looked up in :data:`CELLS` and nowhere else, so every cell builds through the same code and the
training loop never needs to know which one it trains.

Layer names are fixed, so parameter names are unique and identical every time a model is built
(checkpoints store parameters by name)::

    char LM     input -> embed | onehot -> rec0 [-> drop0] -> rec1 [-> drop1] ... -> out
    forecaster  input -> rec0 [-> drop0] ... -> out -> out_shape

Parameters are then named ``"embed.W"``, ``"rec0.W_in_to_hid"`` (Elman),
``"rec0.W_in_to_ingate"`` (LSTM), ``"rec1.W_hid_to_updategate"`` (GRU), ``"out.W"``, ``"out.b"``.

**Carried state.**  The language model is trained with truncated backpropagation through time:
each batch continues the streams of the previous one, so every recurrent layer starts from the
state the previous batch ended in.  Those initial states are inputs of the network
(:attr:`Network.state_inputs`, each ``(batch, hidden)``), and
``get_output(net.output, final_states=states)`` gives the matching final states; see
:mod:`rnnlab.model.compile`.
"""

import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlab.config import ModelConfig
from rnnlab.errors import ConfigError
from rnnlab.nn import init, nonlinearities
from rnnlab.nn.layers import (DenseLayer, DropoutLayer, EmbeddingLayer, ExpressionLayer, Gate,
                              GRULayer, InputLayer, Layer, LSTMLayer, RecurrentLayer, ReshapeLayer)
from rnnlab.nn.utils import one_hot

__all__ = ["CELLS", "CellType", "Network", "build_network", "build_char_lm", "build_forecaster"]


def _gate(nonlinearity=nonlinearities.sigmoid, bias=0.0):
    """A gate without peephole: Glorot-uniform input weights, orthogonal recurrent weights."""
    return Gate(W_in=init.GlorotUniform(), W_hid=init.Orthogonal(), W_cell=None,
                b=init.Constant(bias), nonlinearity=nonlinearity)


def _elman(incoming, num_units, **kwargs):
    layer = RecurrentLayer(incoming, num_units, W_in_to_hid=init.GlorotUniform(),
                           W_hid_to_hid=init.Orthogonal(), b=init.Constant(0.),
                           nonlinearity=nonlinearities.tanh, **kwargs)
    # Checkpoints name the Elman parameters after the layer's attributes ("rec0.W_in_to_hid"),
    # as every release did; the library's own names are Lasagne's ("rec0.input_to_hidden.W").
    for attr in ("W_in_to_hid", "W_hid_to_hid", "b"):
        getattr(layer, attr).name = f"{layer.name}.{attr}"
    return layer


def _lstm(incoming, num_units, **kwargs):
    return LSTMLayer(incoming, num_units, ingate=_gate(), forgetgate=_gate(bias=1.0),
                     cell=_gate(nonlinearities.tanh), outgate=_gate(),
                     nonlinearity=nonlinearities.tanh, peepholes=False, **kwargs)


def _gru(incoming, num_units, **kwargs):
    return GRULayer(incoming, num_units, resetgate=_gate(), updategate=_gate(),
                    hidden_update=_gate(nonlinearities.tanh), **kwargs)


@dataclass(frozen=True)
class CellType:
    """How to build one kind of recurrent layer, and which states it carries.

    Parameters
    ----------
    make : callable
        ``make(incoming, num_units, **kwargs) -> BaseRecurrentLayer``; ``kwargs`` are the options
        of :class:`~rnnlab.nn.layers.BaseRecurrentLayer` (``name``, ``hid_init``, ``cell_init``
        when the cell has one, ``grad_clipping``, ``gradient_steps``, ``only_return_final``).
        Input ``(batch, time, features)``, output ``(batch, time, num_units)``.
    states : tuple of str
        The states the layer carries, in the order of :attr:`Network.state_inputs`: ``('hid',)``
        or ``('hid', 'cell')``; each is ``(batch, num_units)``.

    Examples
    --------
    >>> CELLS['lstm'].states, CELLS['gru'].states
    (('hid', 'cell'), ('hid',))
    """

    make: Callable
    states: tuple


#: The only place the cell type matters.  All three use Glorot-uniform input weights and
#: orthogonal recurrent weights (``gain=1``) and zero biases, except the LSTM's forget gate, whose
#: bias starts at 1 so that the cell remembers by default early in training (Gers et al., 2000;
#: Jozefowicz et al., 2015).  ``elman`` is :class:`~rnnlab.nn.layers.RecurrentLayer` with ``tanh``;
#: ``lstm`` is :class:`~rnnlab.nn.layers.LSTMLayer` without peepholes (as in char-rnn and
#: PyTorch's ``nn.LSTM``); ``gru`` is :class:`~rnnlab.nn.layers.GRULayer`.
CELLS = {
    "elman": CellType(_elman, ("hid",)),
    "lstm": CellType(_lstm, ("hid", "cell")),
    "gru": CellType(_gru, ("hid",)),
}


@dataclass
class Network:
    """A built layer stack and the handles a training loop needs.

    Attributes
    ----------
    inputs : InputLayer
        Text: int32 ids ``(batch, time)``; series: floatX windows ``(batch, lookback, features)``.
    output : Layer
        Text: logits ``(batch, time, vocab)`` (no softmax); series: forecasts
        ``(batch, horizon, n_targets)``.
    state_inputs : list of InputLayer
        One ``(batch, hidden)`` input per carried state, in the order of :attr:`state_keys`;
        empty for the forecaster.
    state_keys : list of (Layer, str)
        ``(recurrent layer, 'hid' or 'cell')``: for every recurrent layer in order, its hidden
        state, then its cell state for an LSTM.  ``get_output(output, final_states=d)`` fills
        ``d[layer][key]``.
    recurrent : list of Layer
        The recurrent layers, bottom first.

    Examples
    --------
    >>> net = build_char_lm(ModelConfig(cell="lstm", hidden=8, layers=2), 5)
    >>> [(layer.name, key) for layer, key in net.state_keys]
    [('rec0', 'hid'), ('rec0', 'cell'), ('rec1', 'hid'), ('rec1', 'cell')]
    """

    inputs: InputLayer
    output: Layer
    state_inputs: list = field(default_factory=list)
    state_keys: list = field(default_factory=list)
    recurrent: list = field(default_factory=list)

    def initial_states(self, batch_size):
        """Zero states, one ``(batch_size, hidden)`` floatX array per :attr:`state_inputs`.

        Examples
        --------
        >>> net = build_char_lm(ModelConfig(cell="lstm", hidden=3), 2)
        >>> [s.shape for s in net.initial_states(2)]
        [(2, 3), (2, 3)]
        """
        return [np.zeros((batch_size, layer.output_shape[1]), dtype=pytensor.config.floatX)
                for layer in self.state_inputs]


def _check_model_cfg(model_cfg):
    """The model section, which its record has checked; anything else is a TypeError."""
    if not isinstance(model_cfg, ModelConfig):
        raise TypeError(f"model_cfg={model_cfg!r}: expected the config's model section "
                        f"(rnnlab.config.ModelConfig)")
    return model_cfg


def _recurrent_stack(layer, cfg, carry_state, last_only=False):
    """Stack ``cfg.layers`` recurrent layers (with dropout after each) on ``layer``.

    Returns the top layer, the state input layers, the state keys and the recurrent layers.
    """
    cell = CELLS[cfg.cell]
    state_inputs, state_keys, recurrent = [], [], []
    for index in range(cfg.layers):
        name = f"rec{index}"
        options = {}
        if carry_state:
            for key in cell.states:
                l_state = InputLayer((None, cfg.hidden), name=f"{name}.{key}_init")
                options[f"{key}_init"] = l_state
                state_inputs.append(l_state)
        layer = cell.make(layer, cfg.hidden, name=name, grad_clipping=cfg.grad_clipping,
                          gradient_steps=cfg.gradient_steps,
                          only_return_final=last_only and index == cfg.layers - 1, **options)
        recurrent.append(layer)
        if carry_state:
            state_keys.extend((layer, key) for key in cell.states)
        if cfg.dropout > 0:
            layer = DropoutLayer(layer, p=cfg.dropout, name=f"drop{index}")
    return layer, state_inputs, state_keys, recurrent


def build_network(task, model_cfg):
    """Build the network of a task: a language model for text, a forecaster for a series.

    Parameters
    ----------
    task : rnnlab.tasks.TextTask or rnnlab.tasks.SeriesTask
        Anything with ``kind`` (``"text"`` or ``"series"``) and ``network_shape()``, the sizes
        :func:`build_char_lm` or :func:`build_forecaster` take.
    model_cfg : rnnlab.config.ModelConfig
        The ``model`` section of a config.

    Returns
    -------
    Network

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> task = SimpleNamespace(kind="text", network_shape=lambda: {"vocab_size": 5})
    >>> net = build_network(task, ModelConfig(cell="gru", hidden=4))
    >>> net.output.output_shape   # (batch, time, vocabulary)
    (None, None, 5)
    """
    builders = {"text": build_char_lm, "series": build_forecaster}
    if task.kind not in builders:
        raise ConfigError(f"data.kind = {task.kind!r}: expected one of {', '.join(builders)}")
    return builders[task.kind](model_cfg, **task.network_shape())


def build_char_lm(model_cfg, vocab_size):
    """Build a character language model that carries its state across batches.

    ids -> embedding (``model.embedding > 0``) or one-hot -> ``model.layers`` recurrent layers,
    each followed by dropout when ``model.dropout > 0`` (also before the output layer, so a
    one-layer model is regularised too) -> a dense layer applied at every time step.

    Parameters
    ----------
    model_cfg : rnnlab.config.ModelConfig
        The config's ``model`` section: ``cell``, ``hidden``, ``layers``, ``dropout``,
        ``embedding``, ``grad_clipping``, ``gradient_steps``.
    vocab_size : int
        ``V``, the number of distinct characters.

    Returns
    -------
    Network
        ``inputs``: int32 ids ``(batch, time)``; ``output``: logits ``(batch, time, V)`` (apply
        log-softmax for the loss); ``state_inputs``: ``(batch, hidden)`` per carried state.

    Raises
    ------
    TypeError
        If ``model_cfg`` is not a :class:`~rnnlab.config.ModelConfig`.
    ValueError
        If ``vocab_size`` is not a positive int.

    Examples
    --------
    >>> cfg = ModelConfig(cell="gru", hidden=16, layers=2, dropout=0.1, embedding=8)
    >>> net = build_char_lm(cfg, vocab_size=30)
    >>> net.inputs.input_var.dtype, net.output.output_shape
    ('int32', (None, None, 30))
    >>> [l.output_shape for l in net.state_inputs]
    [(None, 16), (None, 16)]
    """
    cfg = _check_model_cfg(model_cfg)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral) \
            or vocab_size < 1:
        raise ValueError(f"vocab_size={vocab_size!r}: expected a positive int")
    vocab_size = int(vocab_size)
    l_in = InputLayer((None, None), input_var=pt.imatrix("ids"), name="input")
    if cfg.embedding > 0:
        l_x = EmbeddingLayer(l_in, vocab_size, cfg.embedding, W=init.Normal(std=1.0),
                             name="embed")
    else:
        l_x = ExpressionLayer(l_in, lambda ids: one_hot(ids, vocab_size),
                              output_shape=lambda shape: tuple(shape) + (vocab_size,),
                              name="onehot")
    top, state_inputs, state_keys, recurrent = _recurrent_stack(l_x, cfg, carry_state=True)
    l_out = DenseLayer(top, vocab_size, nonlinearity=None, num_leading_axes=2, name="out")
    return Network(l_in, l_out, state_inputs, state_keys, recurrent)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r}: expected a positive int")
    return int(value)


def build_forecaster(model_cfg, lookback, n_features, horizon, n_targets):
    """Build a forecaster: a window of past values -> the next ``horizon`` values of the targets.

    window -> ``model.layers`` recurrent layers (the last returns only its final state), each
    followed by dropout when ``model.dropout > 0`` -> dense layer with ``horizon * n_targets``
    linear outputs -> reshape.  No state is carried between windows (every window starts from
    zeros); ``model.embedding`` is ignored.

    Parameters
    ----------
    model_cfg : rnnlab.config.ModelConfig
        The config's ``model`` section (see :func:`build_char_lm`).
    lookback : int
        ``L``, time steps per input window.
    n_features : int
        ``F``, input features per step (targets and covariates).
    horizon : int
        ``H``, steps forecast at once.
    n_targets : int
        ``K``, target series forecast.

    Returns
    -------
    Network
        ``inputs``: floatX ``(batch, L, F)``; ``output``: ``(batch, H, K)``; no state inputs.

    Examples
    --------
    >>> cfg = ModelConfig(cell="elman", hidden=8)
    >>> net = build_forecaster(cfg, lookback=24, n_features=3, horizon=12, n_targets=2)
    >>> net.inputs.output_shape, net.output.output_shape, net.state_inputs
    ((None, 24, 3), (None, 12, 2), [])
    """
    cfg = _check_model_cfg(model_cfg)
    lookback, n_features = _positive_int(lookback, "lookback"), _positive_int(n_features,
                                                                              "n_features")
    horizon, n_targets = _positive_int(horizon, "horizon"), _positive_int(n_targets, "n_targets")
    l_in = InputLayer((None, lookback, n_features), name="input")
    top, _, _, recurrent = _recurrent_stack(l_in, cfg, carry_state=False, last_only=True)
    l_dense = DenseLayer(top, horizon * n_targets, nonlinearity=None, name="out")
    l_out = ReshapeLayer(l_dense, ([0], horizon, n_targets), name="out_shape")
    return Network(l_in, l_out, [], [], recurrent)
