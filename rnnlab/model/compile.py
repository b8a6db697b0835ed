"""Compile a :class:`~rnnlab.model.networks.Network` into train / evaluate / predict functions.

This is the only place in the workflow that calls ``pytensor.function``; each function is compiled
exactly once per network (under the JAX backend once per distinct set of input shapes, see
:class:`ShapeSpecialised`), after :func:`prepare_ops` made the process ready for rnnlab's ops
(:func:`rnnlab.nn.ops.prepare`: rnnlab's NUMBA linker, the kernels' BLAS).  The learning rate is
a shared variable (:attr:`Functions.lr`), so a schedule calls ``lr.set_value(...)`` and never
recompiles.

Losses:

- text: the mean cross-entropy of the next character, in nats per character, computed from
  the logits by one fused op (finite for any finite logits; a softmax followed by a log
  overflows to ``-inf`` once one logit dominates).  Bits per character are ``loss / ln 2``.
- series: the mean squared error over batch, horizon and targets, on the scaled values.

The gradient of the loss w.r.t. all trainable parameters is rescaled jointly when its total norm
exceeds ``train.max_grad_norm`` (0 switches clipping off); the norm *before* rescaling is returned
by ``train`` for logging.  ``evaluate`` and ``predict`` run without dropout
(``deterministic=True``).

Signatures (every function returns a list, as ``pytensor.function`` does; ``states`` are the
carried ``(batch, hidden)`` arrays in the order of :attr:`Network.state_inputs`)::

    text    train(x, y, *states)    -> [loss, grad_norm, *final_states]
            evaluate(x, y, *states) -> [loss, *final_states]
            predict(x, *states)     -> [probs (batch, time, vocab), *final_states]
    series  train(x, y)             -> [loss, grad_norm]
            evaluate(x, y)          -> [loss]
            predict(x)              -> [yhat (batch, horizon, n_targets)]
"""

from collections import Counter
from dataclasses import dataclass
import numbers
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import get_mode
from pytensor.graph.replace import clone_replace
from pytensor.link.jax.linker import JAXLinker
from pytensor.tensor.special import softmax

from rnnlab.config import TrainConfig
from rnnlab.errors import BackendError
from rnnlab.nn import ops as nn_ops, updates as nn_updates
from rnnlab.nn.layers import get_all_params, get_output
from rnnlab.nn.objectives import softmax_crossentropy
from rnnlab.nn.utils import collect_shared_vars

__all__ = ["OPTIMIZERS", "KINDS", "Functions", "ShapeSpecialised", "compile_network", "text_loss",
           "prepare_ops"]

KINDS = ("text", "series")

#: ``train.optimizer`` name -> update rule of :mod:`rnnlab.nn.updates`, called as
#: ``rule(grads, params, learning_rate=lr)`` with each rule's default hyperparameters
#: (momentum 0.9; rmsprop rho 0.9; adam betas 0.9 and 0.999).
OPTIMIZERS = {
    "sgd": nn_updates.sgd,
    "momentum": nn_updates.momentum,
    "nesterov": nn_updates.nesterov_momentum,
    "adagrad": nn_updates.adagrad,
    "rmsprop": nn_updates.rmsprop,
    "adam": nn_updates.adam,
}


@dataclass
class Functions:
    """The compiled functions of one network and the shared variables a training loop touches.

    Attributes
    ----------
    train : callable
        Text ``(x, y, *states) -> [loss, grad_norm, *final_states]``; series ``(x, y) -> [loss,
        grad_norm]``.  Updates the parameters, the optimizer state and the dropout generators.
    evaluate : callable
        Text ``(x, y, *states) -> [loss, *final_states]``; series ``(x, y) -> [loss]``.  No
        dropout, no updates.
    predict : callable
        Text ``(x, *states) -> [probs (batch, time, vocab), *final_states]``; series ``(x) ->
        [yhat (batch, horizon, n_targets)]``.  No dropout.
    lr : SharedVariable
        The learning rate, a floatX scalar; ``lr.set_value(...)`` takes effect on the next step.
    updates : rnnlab.nn.updates.OptimizerUpdates
        The optimizer's updates; ``updates.state`` maps names to the optimizer state variables.
    params : list of SharedVariable
        The trainable parameters, uniquely named (``"rec0.W_in_to_ingate"``).
    random_state : list of SharedVariable
        The shared variables holding ``numpy.random.Generator`` s that dropout draws from in
        ``train`` (empty without dropout); save them to resume bitwise.
    n_params : int
        The number of trainable scalars.
    initial_states : callable
        ``initial_states(batch_size)``: the zero states the text functions start from, one
        ``(batch_size, hidden)`` floatX array per carried state (``[]`` for series); see
        :meth:`rnnlab.model.networks.Network.initial_states`.

    Examples
    --------
    >>> from rnnlab.config import ModelConfig
    >>> from rnnlab.model.networks import build_forecaster
    >>> net = build_forecaster(ModelConfig(cell="elman", hidden=3), lookback=4, n_features=1,
    ...                        horizon=2, n_targets=1)
    >>> fns = compile_network(net, 'series', TrainConfig(optimizer="sgd", lr=0.1,
    ...                                                  max_grad_norm=1.0))
    >>> x, y = np.ones((5, 4, 1), 'float32'), np.zeros((5, 2, 1), 'float32')
    >>> loss, grad_norm = fns.train(x, y)
    >>> [yhat.shape for yhat in fns.predict(x)], fns.n_params, fns.random_state
    ([(5, 2, 1)], 23, [])
    >>> fns.initial_states(5)   # a forecaster carries no state between windows
    []
    """

    train: object
    evaluate: object
    predict: object
    lr: object
    updates: object
    params: list
    random_state: list
    n_params: int
    initial_states: object

    @property
    def optimizer_updates(self):
        """rnnlab.nn.updates.OptimizerUpdates: the same object as :attr:`updates`."""
        return self.updates


#: What PyTensor's JAX backend and JAX say while a graph is traced, about choices that are right
#: for these graphs: PyTensor sums float32 in float64 (truncated to float32 without JAX's 64-bit
#: mode, which float32 models do not want), and JAX drops the graph's shape assertions (their
#: shapes are declared, and the NUMBA and C backends check them).
_JAX_NOISE = (r"Explicitly requested dtype (float64|int64) requested in",
              r"Skipping .* as JAX tracing would remove it")


class ShapeSpecialised:
    """A compiled function that is compiled again for each new combination of input shapes.

    PyTensor's JAX backend compiles only graphs whose sizes are known (see
    :mod:`rnnlab.nn.ops.jax_rewrites`); the networks keep batch and sequence sizes symbolic, so
    under JAX each function is compiled once per distinct set of input shapes, with the inputs
    declared at those shapes (``specify_shape``), and kept: a training loop calls a handful of
    shapes (the training batch, the evaluation batch, a last partial batch, one character at a
    time when sampling), each compiled once, never once per step.

    Parameters
    ----------
    inputs : list of Variable
    outputs : list of Variable
    compile : callable
        ``compile(inputs, outputs, updates)`` -> a compiled function (``pytensor.function``).
    updates : dict, optional
        Shared variable -> new value, as for ``pytensor.function``.

    Attributes
    ----------
    functions : dict
        Input shapes (a tuple of tuples) -> the function compiled for them.
    trust_input : bool
        Passed on to every compiled function (``pytensor.function``'s attribute).

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> x = pt.matrix("x")
    >>> f = ShapeSpecialised([x], [x.sum(axis=0)],
    ...                      lambda i, o, u: pytensor.function(i, o, updates=u))
    >>> [f(np.ones((2, 3), x.dtype))[0].shape, f(np.ones((4, 3), x.dtype))[0].shape]
    [(3,), (3,)]
    >>> f(np.zeros((2, 3), x.dtype))[0].tolist(), sorted(f.functions)
    ([0.0, 0.0, 0.0], [((2, 3),), ((4, 3),)])
    """

    def __init__(self, inputs, outputs, compile, updates=None):
        self._inputs, self._outputs = list(inputs), list(outputs)
        self._updates = dict(updates or {})
        self._compile = compile
        self.functions = {}
        self.trust_input = False

    def _specialise(self, shapes):
        declared = {v: pt.specify_shape(v, shape) for v, shape in zip(self._inputs, shapes)}
        keys = list(self._updates)
        graph = clone_replace(self._outputs + [self._updates[k] for k in keys], replace=declared)
        n = len(self._outputs)
        return self._compile(self._inputs, graph[:n], dict(zip(keys, graph[n:])))

    def __call__(self, *args):
        shapes = tuple(np.shape(a) for a in args)
        fn = self.functions.get(shapes)
        first = fn is None
        if first:
            fn = self.functions[shapes] = self._specialise(shapes)
        fn.trust_input = self.trust_input
        if not first:
            return fn(*args)
        with warnings.catch_warnings():         # JAX traces and compiles on this first call
            for message in _JAX_NOISE:
                warnings.filterwarnings("ignore", message=message, category=UserWarning)
            return fn(*args)


def text_loss(logits, targets):
    """Mean cross-entropy of integer targets under logits, in nats (one fused, stable op).

    Parameters
    ----------
    logits : tensor, shape ``(batch, time, vocab)``
        Unnormalised log-probabilities.
    targets : int tensor, shape ``(batch, time)``
        Class ids in ``[0, vocab)``.

    Returns
    -------
    scalar tensor
        ``-mean(log_softmax(logits)[b, t, targets[b, t]])``, computed by
        :func:`rnnlab.nn.objectives.softmax_crossentropy`.

    Examples
    --------
    >>> logits = np.array([[[0.0, 0.0], [1e4, -1e4]]])    # huge logits stay finite
    >>> float(text_loss(pt.as_tensor(logits), pt.as_tensor(np.array([[1, 1]]))).eval())
    10000.3465...
    """
    return pt.mean(softmax_crossentropy(logits, targets))


def prepare_ops():
    """Make the process ready for rnnlab's ops (:func:`rnnlab.nn.ops.prepare`); once per process.

    Returns
    -------
    str
        Which BLAS the kernels call.

    Raises
    ------
    rnnlab.errors.BackendError
        One line, for a bad ``RNNLAB_BLAS``.

    Examples
    --------
    >>> prepare_ops() == prepare_ops()
    True
    """
    try:
        return nn_ops.prepare()
    except ValueError as err:
        raise BackendError(str(err)) from None


def _compiles_for_jax(mode):
    """Whether ``mode`` (None: the one in force) compiles with PyTensor's JAX linker."""
    return isinstance(get_mode(mode).linker, JAXLinker)


def _train_options(train_cfg):
    """The optimiser, learning rate and gradient-norm limit of a checked train section."""
    if not isinstance(train_cfg, TrainConfig):
        raise TypeError(f"train_cfg={train_cfg!r}: expected the config's train section "
                        f"(rnnlab.config.TrainConfig)")
    return train_cfg.optimizer, train_cfg.lr, train_cfg.max_grad_norm


def _check_params(params):
    counts = Counter(p.name for p in params)
    clashes = sorted(str(name) for name, n in counts.items() if n > 1 or name is None)
    if clashes:
        raise ValueError(f"network parameters need unique names; repeated or missing: "
                         f"{', '.join(clashes)}")


def _loss(kind, output, targets):
    if kind == "text":
        return text_loss(output, targets)
    return pt.mean(pt.sqr(output - targets))


def _outputs(net, kind, targets, deterministic):
    """The network output, the loss and the final states (in ``state_keys`` order)."""
    finals = {}
    output = get_output(net.output, deterministic=deterministic, final_states=finals)
    states = [finals[layer][key] for layer, key in net.state_keys]
    return output, _loss(kind, output, targets), states


def compile_network(net, kind, train_cfg, mode=None):
    """Compile the train, evaluate and predict functions of a network (each once).

    Parameters
    ----------
    net : rnnlab.model.networks.Network
        From :func:`~rnnlab.model.networks.build_char_lm` (``kind='text'``) or
        :func:`~rnnlab.model.networks.build_forecaster` (``kind='series'``).
    kind : {'text', 'series'}
        Text: x int32 ``(batch, time)``, y int32 ``(batch, time)`` (next characters).  Series: x
        floatX ``(batch, lookback, features)``, y floatX ``(batch, horizon, n_targets)``.  Other
        dtypes are cast when safe-enough (``allow_input_downcast``).
    train_cfg : rnnlab.config.TrainConfig
        The config's ``train`` section; uses ``optimizer`` (a key of :data:`OPTIMIZERS`), ``lr``
        (initial learning rate) and ``max_grad_norm`` (total-norm clipping; 0 = off).
    mode : str or pytensor Mode, optional
        Compile mode; ``None`` uses the mode configured by :mod:`rnnlab.backend`.

    Returns
    -------
    Functions
        See the module docstring for the signatures.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or parameters without unique names.
    TypeError
        If ``train_cfg`` is not a :class:`~rnnlab.config.TrainConfig`.
    rnnlab.errors.BackendError
        For a bad ``RNNLAB_BLAS`` (:func:`prepare_ops`).

    Examples
    --------
    >>> from rnnlab.model.networks import build_char_lm
    >>> from rnnlab.config import ModelConfig
    >>> fns = compile_network(build_char_lm(ModelConfig(cell="elman", hidden=4), vocab_size=3),
    ...                       'text', TrainConfig(optimizer="adam", lr=0.01, max_grad_norm=5.0))
    >>> x = np.array([[0, 1, 2, 0]], dtype='int32')        # (batch 1, time 4)
    >>> state = np.zeros((1, 4), dtype='float32')          # (batch, hidden)
    >>> loss, grad_norm, state = fns.train(x[:, :-1], x[:, 1:], state)
    >>> probs, state = fns.predict(x[:, :1], state)         # one sampling step
    >>> probs.shape, round(float(probs.sum()), 4)
    ((1, 1, 3), 1.0)
    >>> fns.lr.set_value(np.float32(0.001))                 # a schedule: no recompiling
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: expected one of {', '.join(KINDS)}")
    optimizer, lr_value, max_norm = _train_options(train_cfg)
    prepare_ops()
    x = net.inputs.input_var
    states_in = [layer.input_var for layer in net.state_inputs]
    if kind == "text":
        y = pt.imatrix("targets")
    else:
        y = pt.tensor3("targets", dtype=pytensor.config.floatX)

    params = get_all_params(net.output, trainable=True)
    _check_params(params)
    output, loss, states_out = _outputs(net, kind, y, deterministic=False)
    grads = pytensor.grad(loss, params)
    if max_norm > 0:
        grads, grad_norm = nn_updates.total_norm_constraint(grads, max_norm, return_norm=True)
    else:
        grad_norm = pt.sqrt(sum(pt.sum(pt.sqr(g)) for g in grads))
    lr = pytensor.shared(np.asarray(lr_value, dtype=pytensor.config.floatX), name="lr")
    updates = OPTIMIZERS[optimizer](grads, params, learning_rate=lr)
    random_state = [v for v in collect_shared_vars([loss] + states_out)
                    if isinstance(v.get_value(borrow=True), np.random.Generator)]

    def compile(inputs, outputs, updates=None):
        return pytensor.function(inputs, outputs, mode=mode, allow_input_downcast=True,
                                 updates=updates)

    def function(inputs, outputs, updates=None):
        if _compiles_for_jax(mode):
            return ShapeSpecialised(inputs, outputs, compile, updates)
        return compile(inputs, outputs, updates)

    train = function([x, y, *states_in], [loss, grad_norm, *states_out], updates=updates)
    det_output, det_loss, det_states = _outputs(net, kind, y, deterministic=True)
    evaluate = function([x, y, *states_in], [det_loss, *det_states])
    prediction = softmax(det_output, axis=-1) if kind == "text" else det_output
    predict = function([x, *states_in], [prediction, *det_states])
    n_params = int(sum(p.get_value(borrow=True).size for p in params))
    return Functions(train, evaluate, predict, lr, updates, params, random_state, n_params,
                     net.initial_states)
