"""Named, checkpointable optimizer state: the machinery behind :mod:`rnnlab.nn.updates`.

Every update function returns an :class:`OptimizerUpdates`: a plain ``OrderedDict`` (shared
variable -> update expression, so ``pytensor.function(..., updates=...)`` and Lasagne-era code use
it unchanged) with one addition, ``.state``: an ``OrderedDict`` from a unique, deterministic name
to each shared variable the optimizer created.  :func:`get_state_values` and
:func:`set_state_values` turn that state into named arrays and back, so a checkpoint can resume
training exactly.

Naming rule: ``"<param label>.<optimizer>.<slot>"`` for per-parameter state (``"W.adam.m"``) and
``"<optimizer>.<slot>"`` for state shared by all parameters (``"adam.t"``).  A parameter's label
is its name when that name is unique among the parameters given; a repeated name gets the
parameter's index appended (``"W#0"``, ``"W#3"``), an unnamed parameter is ``"param<index>"``.
Should a name still be taken, ``_2``, ``_3``, ... is appended, in creation order.  Names therefore
depend only on the parameters' names and order, and are identical each time a model is rebuilt.
"""

import numbers
from collections import OrderedDict, Counter

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Variable

__all__ = ["OptimizerUpdates", "get_state_values", "set_state_values", "get_or_compute_grads"]


class OptimizerUpdates(OrderedDict):
    """An ``OrderedDict`` of updates that also names the optimizer's state.

    Parameters
    ----------
    *args, **kwargs
        As for ``OrderedDict``: shared variable -> update expression (same shape and dtype).
    state : mapping of str to SharedVariable, optional
        The optimizer's state variables by name; copied into :attr:`state`.

    Attributes
    ----------
    state : OrderedDict of str to SharedVariable
        Every shared variable the optimizer created (moments, accumulators, velocities, step
        counters), in creation order.  Each has the same shape and dtype as the value it tracks
        (a parameter) or is a 0-d ``floatX`` step counter (a float, as in Lasagne); the
        variable's ``name`` is its key.

    Examples
    --------
    >>> w = pytensor.shared(np.zeros(2), name='w')
    >>> updates = OptimizerUpdates([(w, w + 1)])
    >>> isinstance(updates, OrderedDict), dict(updates.state)
    (True, {})
    """

    def __init__(self, *args, state=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.state = OrderedDict(state or ())

    def copy(self):
        """Return a shallow copy, state included.

        Returns
        -------
        OptimizerUpdates

        Examples
        --------
        >>> w = pytensor.shared(np.zeros(2), name='w')
        >>> OptimizerUpdates(state={'w.sgd.x': w}).copy().state['w.sgd.x'] is w
        True
        """
        return type(self)(self, state=self.state)

    def __repr__(self):
        return f"{type(self).__name__}({list(self.items())!r}, state={list(self.state)!r})"


def _state_of(updates, caller):
    state = getattr(updates, "state", None)
    if not isinstance(state, OrderedDict):
        raise TypeError(f"{caller}: updates of type {type(updates).__name__} carry no optimizer "
                        "state; expected the OptimizerUpdates returned by an rnnlab.nn.updates "
                        "function")
    return state


def get_state_values(updates):
    """Return copies of the optimizer state's current values, by name.

    Parameters
    ----------
    updates : OptimizerUpdates
        As returned by any function of :mod:`rnnlab.nn.updates`.

    Returns
    -------
    dict of str to numpy.ndarray
        One entry per ``updates.state`` entry, in the same order; each array has the shape and
        dtype of its state variable (the parameter's shape, or ``()`` for step counters).

    Raises
    ------
    TypeError
        If ``updates`` has no ``state``.

    Examples
    --------
    >>> w = pytensor.shared(np.zeros(2), name='w')
    >>> v = pytensor.shared(np.ones(2), name='w.momentum.velocity')
    >>> get_state_values(OptimizerUpdates(state={v.name: v}))
    {'w.momentum.velocity': array([1., 1.])}
    """
    state = _state_of(updates, "get_state_values")
    return {name: np.array(var.get_value(borrow=False)) for name, var in state.items()}


def set_state_values(updates, values):
    """Set the optimizer state from named arrays, as saved by :func:`get_state_values`.

    Every name must be present with exactly the saved shape and dtype; nothing is set unless all
    of them check out, so a failed restore leaves the optimizer untouched.  The one conversion:
    a step counter saved as a 0-d integer (as rnnlab 0.1 kept it) restores a float counter.

    Parameters
    ----------
    updates : OptimizerUpdates
        As returned by any function of :mod:`rnnlab.nn.updates`.
    values : mapping of str to array_like
        One array per ``updates.state`` name, of that state variable's shape and dtype.

    Raises
    ------
    TypeError
        If ``updates`` has no ``state`` or ``values`` is not a mapping.
    ValueError
        Naming the first missing or unexpected key, or the first shape or dtype mismatch.

    Examples
    --------
    >>> v = pytensor.shared(np.zeros(2), name='w.momentum.velocity')
    >>> updates = OptimizerUpdates(state={v.name: v})
    >>> set_state_values(updates, {'w.momentum.velocity': np.array([0.5, 2.0])})
    >>> v.get_value()
    array([0.5, 2. ])
    >>> set_state_values(updates, {'w.adam.m': np.zeros(2)})
    Traceback (most recent call last):
    ...
    ValueError: set_state_values: state 'w.momentum.velocity' is missing from values ...
    """
    state = _state_of(updates, "set_state_values")
    if not hasattr(values, "keys"):
        raise TypeError(f"set_state_values: values of type {type(values).__name__} is not a "
                        "mapping; expected a dict of name -> array")
    for name in state:
        if name not in values:
            raise ValueError(f"set_state_values: state {name!r} is missing from values "
                             f"({len(values)} names given, {len(state)} expected)")
    for name in values:
        if name not in state:
            raise ValueError(f"set_state_values: values has unexpected key {name!r}, which "
                             "names no state variable of these updates")
    arrays = {}
    for name, var in state.items():
        current = var.get_value(borrow=True)
        array = _saved_counter(np.asarray(values[name]), current)
        if array.shape != current.shape or array.dtype != current.dtype:
            raise ValueError(f"set_state_values: {name!r} given shape {array.shape} dtype "
                             f"{array.dtype}, expected shape {current.shape} dtype "
                             f"{current.dtype}")
        arrays[name] = array
    for name, var in state.items():
        var.set_value(arrays[name], borrow=False)


def _saved_counter(array, current):
    """A step counter saved as a 0-d integer (rnnlab 0.1) for today's 0-d float counter."""
    if (array.shape == current.shape == () and array.dtype.kind in "iu"
            and current.dtype.kind == "f" and current.dtype.type(array) == array):
        return array.astype(current.dtype)
    return array


def get_or_compute_grads(loss_or_grads, params):
    """Return the gradients of a loss with respect to parameters, or check given gradients.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, differentiated with ``pytensor.grad``; or one gradient per parameter,
        each of its parameter's shape: a list is returned as it is (the same object, as in
        Lasagne), a tuple as a list.
    params : list of SharedVariable
        The parameters.

    Returns
    -------
    list of Variable
        One gradient per parameter, of its shape.

    Raises
    ------
    ValueError
        If a parameter is not a shared variable, or the number of gradients given differs from
        the number of parameters.

    Examples
    --------
    >>> w = pytensor.shared(np.array([1., 2.]), name='w')
    >>> [g.eval().tolist() for g in get_or_compute_grads(pt.sum(w ** 2), [w])]
    [[2.0, 4.0]]
    """
    params = list(params)
    for index, param in enumerate(params):
        if not isinstance(param, SharedVariable):
            raise ValueError(f"params[{index}] = {param!r} is a {type(param).__name__}, expected "
                             "a shared variable (rnnlab.nn.utils.collect_shared_vars finds the "
                             "shared variables of an expression)")
    if isinstance(loss_or_grads, (list, tuple)):
        if len(loss_or_grads) != len(params):
            raise ValueError(f"loss_or_grads: got {len(loss_or_grads)} gradients for "
                             f"{len(params)} params, expected one per parameter")
        return loss_or_grads if isinstance(loss_or_grads, list) else list(loss_or_grads)
    return pytensor.grad(loss_or_grads, params)


def check_scalar(value, name):
    """Return a hyperparameter unchanged after checking it is a number or a symbolic scalar."""
    if isinstance(value, Variable):
        if value.ndim != 0:
            raise ValueError(f"{name}: given a {value.ndim}-d variable {value}, expected a "
                             "scalar (0-d) variable or a number")
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        return value  # e.g. rnnlab.nn.utils.floatX(0.01), a common Lasagne idiom
    raise TypeError(f"{name}: given {value!r} of type {type(value).__name__}, expected a number "
                    "or a symbolic scalar (e.g. a shared variable, to change it while training)")


def cast_like(expression, variable):
    """Cast ``expression`` to ``variable``'s dtype, so an update never changes a dtype."""
    if expression.dtype == variable.dtype:
        return expression
    return pt.cast(expression, variable.dtype)


def param_labels(params):
    """Labels for state names: unique names as they are, otherwise the parameter's index."""
    counts = Counter(param.name for param in params)
    labels = []
    for index, param in enumerate(params):
        if not param.name:
            labels.append(f"param{index}")
        elif counts[param.name] > 1:
            labels.append(f"{param.name}#{index}")
        else:
            labels.append(param.name)
    return labels


class StateMaker:
    """Create an optimizer's named state variables and record them in ``updates.state``.

    Parameters
    ----------
    updates : OptimizerUpdates
        Receives the new state in its ``state``; names already there stay taken.
    optimizer : str
        The middle part of each name (``"adam"``).
    params : list of SharedVariable
        The parameters, in the order that gives unnamed or same-named ones their index.
    """

    def __init__(self, updates, optimizer, params):
        self.state = updates.state
        self.optimizer = optimizer
        self.labels = param_labels(params)

    def _register(self, name, variable):
        unique, suffix = name, 2
        while unique in self.state:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        variable.name = unique
        self.state[unique] = variable
        return variable

    def slot(self, index, param, slot):
        """A zero-initialised shared variable of ``param``'s shape, dtype and static shape."""
        value = param.get_value(borrow=True)
        variable = pytensor.shared(np.zeros(value.shape, dtype=value.dtype),
                                   shape=param.type.shape)
        return self._register(f"{self.labels[index]}.{self.optimizer}.{slot}", variable)

    def counter(self, slot="t"):
        """A 0-d ``floatX`` shared step counter starting at 0 (shared by all parameters).

        A float, as Lasagne keeps it: ``beta ** t`` with an integer ``t`` cast to a float is
        what LLVM turns into a call of ``__powisf2``/``__powidf2``, which Numba's JIT cannot
        link (the process aborts).  Counts are exact up to 2**24 steps in float32.
        """
        value = np.asarray(0, dtype=pytensor.config.floatX)
        return self._register(f"{self.optimizer}.{slot}", pytensor.shared(value))
