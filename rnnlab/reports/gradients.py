"""How far back does the gradient reach?  The norm of ``dL/dh_t`` against the lag ``k``.

For a sequence of ``T`` steps and a loss ``L`` at the last step only, this module measures
``||dL/dh_{T-1-k}||`` for ``k = 0 .. T-1``: the *total* derivative of the loss with respect to the
hidden state ``k`` steps before it, through every path (the recurrence, an LSTM's cell state,
layers above).  For an Elman network ``dL/dh_{t-1} = W_hid (phi'(a_t) * dL/dh_t)``, so with small
recurrent weights the norm shrinks geometrically with ``k`` -- the vanishing gradient of Bengio et
al. (1994) and Hochreiter's thesis.  An LSTM's additive cell state ``c_t = f * c_{t-1} + i * g``
lets the gradient survive as long as the forget gate stays near 1.

**How the derivative is taken.**  ``pytensor.grad`` w.r.t. the scan's output sequence would give
only the *direct* dependence (zero before the last step), because the scan's output is a copy of
the states, not the variable the next step reads.  So :func:`probe_hidden` re-runs a recurrent
layer with a zero *probe* ``p`` (``(batch, time, units)``) added to its hidden state right after
each step::

    h_t = step(x_t, h_{t-1}, ...) + p_t        (p = 0, so the values do not change)

Everything downstream of step ``t`` -- the next step, the layers above, the loss -- reads this
``h_t``, hence ``dL/dp_t = dL/dh_t`` exactly.  Adding a zero input to the *pre-activations*
instead (an extra input to the layer) would give ``dL/da_t = phi'(a_t) * dL/dh_t``: not the same.
The probe enters through :func:`rnnlab.nn.layers.recur` as extra input features that a wrapper
cell passes around the cell's input projection, so the layer's own loop (scan, truncation,
masks) runs unchanged.

Per-example gradients: the loss is *summed* over the batch, so ``dL/dh`` of example ``b`` is that
example's own gradient; the norms are taken per example and then averaged over the batch.

:func:`cell_gradient_norms` and :func:`network_gradient_norms` (and so the functions built on
them) build and compile their graph in :data:`ANALYSIS_MODE` (FAST_COMPILE), whatever the mode in
force: the graph is evaluated once, so an optimising compile would only cost time.

Examples
--------
>>> norms = cell_gradient_norms("elman", units=4, steps=6, batch=2, n_inputs=3)
>>> norms.shape, bool(np.isclose(norms[0], 1.0))
((6,), True)
"""

import copy

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlab.errors import CheckpointError
from rnnlab.model.networks import CELLS, build_network
from rnnlab.nn import random as nn_random
from rnnlab.nn.layers import InputLayer, get_all_params, get_output
from rnnlab.nn.layers.recurrence import BaseRecurrentLayer
from rnnlab.run import RunDir
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.tasks import make_task

__all__ = ["probe_hidden", "hidden_gradients", "norms_by_lag", "cell_gradient_norms",
           "network_gradient_norms", "session_gradient_norms", "run_gradient_norms"]

#: The measurements below build and evaluate their graph once, so they build and compile it in
#: this mode whatever the mode in force: an optimising compile (NUMBA: minutes on a cold cache)
#: would cost far more than it saves on a single evaluation.
ANALYSIS_MODE = "FAST_COMPILE"


class _ProbedCell:
    """Wrap a cell so that the last ``units`` input features are added to the new hidden state.

    ``project`` maps ``(n, features + units)`` to ``(n, projected + units)`` (the probe passes
    through unprojected); ``step`` splits it again and returns the cell's states with ``hid``
    replaced by ``hid + probe``.
    """

    def __init__(self, cell, units):
        self.cell, self.units = cell, units
        self.state_names = cell.state_names
        self._hid = list(cell.state_names).index("hid")

    def project(self, x):
        return pt.concatenate([self.cell.project(x[:, :-self.units]), x[:, -self.units:]],
                              axis=1)

    def step(self, x_proj, *states):
        new = list(self.cell.step(x_proj[:, :-self.units], *states))
        new[self._hid] = new[self._hid] + x_proj[:, -self.units:]
        return new


def probe_hidden(layer, inputs=None, **kwargs):
    """A recurrent layer's output, recomputed with a zero probe added to its hidden state.

    Parameters
    ----------
    layer : BaseRecurrentLayer
        Elman, LSTM or GRU layer (forward in time) with a ``(units,)`` state.
    inputs : None, Variable or dict, optional
        As for :func:`~rnnlab.nn.layers.get_output`, for the layer's incomings.
    **kwargs
        Forwarded to ``get_output`` (e.g. ``deterministic=True``).

    Returns
    -------
    probe : Variable, shape ``(batch, time, units)``
        All zeros; ``pytensor.grad(loss, probe)[:, t]`` is ``dL/dh_t``.
    output : Variable
        Equal in value to ``get_output(layer)``: ``(batch, time, units)``, or ``(batch, units)``
        with ``only_return_final``.  Pass it to ``get_output(top, inputs={layer: output})`` to
        build the rest of the network on it.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, RecurrentLayer
    >>> l_in = InputLayer((None, 5, 2))
    >>> l_rec = RecurrentLayer(l_in, 3)
    >>> probe, hid = probe_hidden(l_rec)
    >>> g = pytensor.grad(hid[:, -1].sum(), probe)       # dL/dh_t for L = sum(h_{T-1})
    >>> g.eval({l_in.input_var: np.ones((4, 5, 2), dtype=pytensor.config.floatX)})[0, -1]
    array([1., 1., 1.]...)
    """
    if not isinstance(layer, BaseRecurrentLayer):
        raise TypeError(f"layer={layer!r}: expected a recurrent layer (BaseRecurrentLayer)")
    if layer.backwards:
        raise ValueError(f"layer {layer.name!r} has backwards=True: lags are defined for "
                         "forward layers only")
    if layer.state_shape is None or len(layer.state_shape) != 1:
        raise ValueError(f"layer {layer.name!r}: state shape {layer.state_shape}, expected "
                         "(units,)")
    units = layer.state_shape[0]
    incoming = get_output(layer.input_layers, inputs, **kwargs)
    x = pt.flatten(incoming[0], 3)                           # (batch, time, features)
    probe = pt.zeros((x.shape[0], x.shape[1], units), dtype=x.dtype)
    probed = copy.copy(layer)                                # same parameters, other cell
    probed.make_cell = lambda **kw: _ProbedCell(layer.make_cell(**kw), units)
    output = probed.get_output_for([pt.concatenate([x, probe], axis=2)] + incoming[1:], **kwargs)
    return probe, output


def hidden_gradients(loss, probe, givens):
    """Evaluate ``dL/dh_t`` for every example and step.

    Parameters
    ----------
    loss : scalar Variable
        Built on the ``output`` of :func:`probe_hidden`; sum (do not average) it over the batch
        to get per-example gradients.
    probe : Variable
        The ``probe`` of :func:`probe_hidden`.
    givens : dict
        Every input variable the loss needs -> its numpy value.

    Returns
    -------
    numpy.ndarray, shape ``(batch, time, units)``, float64
        ``[:, t]`` is ``dL/dh_t``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, RecurrentLayer
    >>> l_in = InputLayer((None, 4, 1))
    >>> floatX = pytensor.config.floatX
    >>> l_rec = RecurrentLayer(l_in, 1, W_hid_to_hid=np.full((1, 1), 0.5, dtype=floatX),
    ...                        nonlinearity=None)              # h_t = x_t W + b + 0.5 h_{t-1}
    >>> probe, hid = probe_hidden(l_rec)
    >>> x = np.zeros((1, 4, 1), dtype=floatX)
    >>> hidden_gradients(hid[:, -1].sum(), probe, {l_in.input_var: x})[0, :, 0]
    array([0.125, 0.25 , 0.5  , 1.   ])
    """
    grad = pytensor.grad(loss, probe)
    variables = list(givens)
    # An analysis graph, compiled once per call (not part of the training functions).
    fn = pytensor.function(variables, grad, on_unused_input="ignore")
    return np.asarray(fn(*(givens[v] for v in variables)), dtype=np.float64)


def norms_by_lag(grads):
    """Per-example gradient norms, averaged over the batch, indexed by lag.

    Parameters
    ----------
    grads : array_like, shape ``(batch, time, units)``
        ``dL/dh_t`` as :func:`hidden_gradients` returns it.

    Returns
    -------
    numpy.ndarray, shape ``(time,)``
        ``[k]`` is the batch mean of ``||dL/dh_{T-1-k}||``; ``k = 0`` is the last step.

    Examples
    --------
    >>> norms_by_lag(np.array([[[0.0, 1.0], [3.0, 4.0]]]))
    array([5., 1.])
    """
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim != 3:
        raise ValueError(f"grads: shape {grads.shape}, expected (batch, time, units)")
    return np.sqrt((grads ** 2).sum(axis=2)).mean(axis=0)[::-1].copy()


def cell_gradient_norms(cell, units=32, steps=50, n_inputs=8, batch=16, seed=0, **layer_kwargs):
    """Gradient norm against lag for a freshly initialised single-layer network of one cell type.

    The layer is built exactly as the models build it (:data:`rnnlab.model.networks.CELLS`), fed standard
    normal inputs, and the loss at the last step is ``L = sum_b v . h_{b,T-1}`` for a fixed random
    unit vector ``v``: so the norm at lag 0 is 1 and the curve shows how much of a unit gradient
    reaches each earlier step.

    Parameters
    ----------
    cell : {'elman', 'lstm', 'gru'}
    units, steps, n_inputs, batch : int
        Hidden units ``U``, sequence length ``T``, input features ``D`` and batch size ``B``.
    seed : int
        Seeds the initial weights, the inputs and ``v``.
    **layer_kwargs
        Passed to the layer (e.g. ``forgetgate=Gate(b=init.Constant(5.))``).

    Returns
    -------
    numpy.ndarray, shape ``(steps,)``
        ``[k]``: batch mean of ``||dL/dh_{T-1-k}||``.

    Examples
    --------
    >>> norms = cell_gradient_norms("lstm", units=4, steps=5, batch=2, n_inputs=3)
    >>> norms.shape, bool(np.all(norms > 0))
    ((5,), True)
    """
    if cell not in CELLS:
        raise ValueError(f"cell={cell!r}: expected one of {', '.join(CELLS)}")
    for name, value in (("units", units), ("steps", steps), ("n_inputs", n_inputs),
                        ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}={value!r}: expected a positive int")
    previous = nn_random.get_rng()
    nn_random.set_rng(np.random.RandomState(seed))
    try:
        l_in = InputLayer((None, steps, n_inputs), name="input")
        layer = CELLS[cell].make(l_in, units, name="rec0", **layer_kwargs)
    finally:
        nn_random.set_rng(previous)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, n_inputs)).astype(pytensor.config.floatX)
    v = rng.standard_normal(units)
    v /= np.linalg.norm(v)
    with pytensor.config.change_flags(mode=ANALYSIS_MODE):
        probe, hid = probe_hidden(layer)
        loss = (hid[:, -1] * v.astype(pytensor.config.floatX)).sum()
        return norms_by_lag(hidden_gradients(loss, probe, {l_in.input_var: x}))


def _last_step_loss(output, kind):
    """The per-example loss at the last step, summed over the batch, and the target variable."""
    if kind == "text":                 # logits (batch, time, vocab) vs next ids (batch, time)
        y = pt.imatrix("y")
        logp = pt.special.log_softmax(output[:, -1], axis=-1)
        return -logp[pt.arange(y.shape[0]), y[:, -1]].sum(), y
    if kind == "series":               # forecasts (batch, horizon, targets): MSE per example
        y = pt.tensor3("y", dtype=output.dtype)
        return ((output - y) ** 2).mean(axis=(1, 2)).sum(), y
    raise ValueError(f"kind={kind!r}: expected 'text' or 'series'")


def network_gradient_norms(network, kind, x, y, states=(), layer=-1):
    """Gradient norm against lag for a built model (:class:`rnnlab.model.networks.Network`).

    The loss is the model's own training loss restricted to the last step: cross-entropy of the
    last character for text, the window's mean squared error for series (a forecaster reads only
    the final state, so its loss is already a last-step loss).  Dropout is off.

    Parameters
    ----------
    network : rnnlab.model.networks.Network
    kind : {'text', 'series'}
    x : numpy.ndarray
        Text: int32 ids ``(batch, time)``; series: ``(batch, lookback, features)``.
    y : numpy.ndarray
        Text: int32 next ids ``(batch, time)``; series: ``(batch, horizon, targets)``.
    states : sequence of numpy.ndarray
        One ``(batch, hidden)`` array per ``network.state_inputs`` (zeros if empty and needed).
    layer : int
        Which recurrent layer to probe (index into ``network.recurrent``; -1: the top one).

    Returns
    -------
    numpy.ndarray, shape ``(time,)``

    Examples
    --------
    >>> from rnnlab.config import ModelConfig
    >>> from rnnlab.model.networks import build_char_lm
    >>> net = build_char_lm(ModelConfig(cell="gru", hidden=4), 5)
    >>> ids = np.zeros((2, 6), dtype=np.int32)
    >>> network_gradient_norms(net, "text", ids, ids).shape
    (6,)
    """
    if not -len(network.recurrent) <= layer < len(network.recurrent):
        raise ValueError(f"layer={layer!r}: the network has {len(network.recurrent)} recurrent "
                         "layers")
    with pytensor.config.change_flags(mode=ANALYSIS_MODE):
        return _network_gradient_norms(network, kind, x, y, states, network.recurrent[layer])


def _network_gradient_norms(network, kind, x, y, states, target):
    probe, hid = probe_hidden(target, deterministic=True)
    output = get_output(network.output, inputs={target: hid}, deterministic=True)
    loss, y_var = _last_step_loss(output, kind)
    x = np.asarray(x)
    if not states:
        states = [np.zeros((x.shape[0],) + l.output_shape[1:], dtype=pytensor.config.floatX)
                  for l in network.state_inputs]
    if len(states) != len(network.state_inputs):
        raise ValueError(f"states: {len(states)} arrays, expected {len(network.state_inputs)}")
    givens = {network.inputs.input_var: x, y_var: np.asarray(y, dtype=y_var.dtype)}
    givens.update((l.input_var, np.asarray(s, dtype=l.input_var.dtype))
                  for l, s in zip(network.state_inputs, states))
    return norms_by_lag(hidden_gradients(loss, probe, givens))


def session_gradient_norms(session, layer=-1):
    """Gradient norm against lag for a session's network on its first training batch.

    Parameters
    ----------
    session : rnnlab.training.session.Session
        E.g. from :func:`rnnlab.training.session.load_run` (a trained run's best parameters).
    layer : int
        Which recurrent layer to probe (-1: the top one).

    Returns
    -------
    numpy.ndarray, shape ``(time,)``
        Text: ``time = data.seq_len``; series: ``data.lookback``.

    Examples
    --------
    Anything with ``task`` (``kind``, ``train_batch``) and ``network`` will do:

    >>> from types import SimpleNamespace
    >>> from rnnlab.config import ModelConfig
    >>> from rnnlab.model.networks import build_forecaster
    >>> net = build_forecaster(ModelConfig(cell="lstm", hidden=3),
    ...                        lookback=5, n_features=1, horizon=2, n_targets=1)
    >>> x, y = np.ones((2, 5, 1), "float32"), np.zeros((2, 2, 1), "float32")
    >>> task = SimpleNamespace(kind="series", train_batch=lambda epoch, index: (x, y))
    >>> session_gradient_norms(SimpleNamespace(task=task, network=net)).shape
    (5,)
    """
    task = session.task
    x, y = task.train_batch(0, 0)
    return network_gradient_norms(session.network, task.kind, x, y,
                                  session.network.initial_states(len(x)), layer=layer)


def run_gradient_norms(run_dir, which="best", layer=-1):
    """Gradient norm against lag for a trained run, without compiling its training functions.

    Rebuilds the run's network from ``config.json`` and ``meta.json``, sets its parameters from
    a checkpoint (``"param/<name>"`` arrays) and measures on the first training batch (the data
    file is read).  Cheaper than :func:`session_gradient_norms` on
    :func:`rnnlab.training.session.load_run`, which compiles the train, evaluate and predict functions.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A directory written by ``python -m rnnlab.train``.
    which : {'best', 'latest'}
        The checkpoint.
    layer : int
        Which recurrent layer to probe (-1: the top one).

    Returns
    -------
    numpy.ndarray, shape ``(time,)``

    Raises
    ------
    RnnlabError
        For a missing or unreadable run, checkpoint or data file.

    Examples
    --------
    >>> run_gradient_norms("no/such/run")
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: no/such/run: no such run directory
    """
    run = RunDir(run_dir)
    stem = run.checkpoint(which)
    run.check()
    cfg = run.load_config()
    task = make_task(cfg, run.read_meta(), str(run.meta_file))
    network = build_network(task, cfg.model)
    params = get_all_params(network.output)
    arrays, _ = load_checkpoint(stem)
    for param in params:
        key, shape = f"param/{param.name}", param.get_value(borrow=True).shape
        if key not in arrays or arrays[key].shape != shape:
            found = arrays[key].shape if key in arrays else "nothing"
            raise CheckpointError(f"{stem}: {key!r} holds {found}; the model expects shape "
                                  f"{shape}")
        param.set_value(np.asarray(arrays[key], dtype=param.dtype))
    x, y = task.train_batch(0, 0)
    return network_gradient_norms(network, task.kind, x, y, network.initial_states(len(x)),
                                  layer=layer)
