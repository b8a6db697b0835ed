"""Update rules for gradient descent, with optimizer state that a checkpoint can save and restore.

The functions take a loss (or one gradient per parameter) and the parameters, and return the
update dictionary to pass to ``pytensor.function(..., updates=...)``, as in Lasagne:

- ``sgd``: plain gradient descent;
- ``momentum``, ``nesterov_momentum``: gradient descent with (Nesterov) momentum, and
  ``apply_momentum``, ``apply_nesterov_momentum`` to add momentum to any other updates;
- ``adagrad``, ``rmsprop``, ``adadelta``, ``adam``, ``adamax``, ``amsgrad``: per-parameter
  adaptive step sizes (defined in :mod:`rnnlab.nn._adaptive_updates`);
- ``norm_constraint``, ``total_norm_constraint``: rescale weights or gradients whose norms are
  too large (gradient clipping).

Hyperparameters (learning rate, momentum, betas, ...) may be numbers, baked into the compiled
function, or symbolic scalars such as shared variables, which a schedule can change between calls
without recompiling.  Every update keeps its variable's dtype: float32 parameters stay float32
even with a float64 learning rate.

**Optimizer state, beyond Lasagne.**  Lasagne kept moments, accumulators and Adam's step counter
in anonymous shared variables, so training could not be resumed exactly.  Here every function
returns an :class:`OptimizerUpdates`, an ``OrderedDict`` whose ``state`` attribute maps a stable
name to each state variable: ``"<param label>.<optimizer>.<slot>"`` (``"lstm.W_in_to_ingate.
adam.m"``) or, for state shared by all parameters, ``"<optimizer>.<slot>"`` (``"adam.t"``).  The
parameter label is its name, or ``"param<index>"`` when unnamed, or ``"<name>#<index>"`` when
several parameters share a name, so rebuilding the same model gives the same names.
:func:`get_state_values` and :func:`set_state_values` read and write that state as named arrays;
saved with the parameter values, they make a resumed run bitwise identical to an uninterrupted
one.  ``apply_momentum`` and ``apply_nesterov_momentum`` keep the state of the updates they wrap
and add their velocities.

Examples
--------
>>> w = pytensor.shared(np.array([1.0, -2.0]), name='w')
>>> updates = adam(pt.sum(w ** 2), [w], learning_rate=0.1)
>>> saved = get_state_values(updates)     # store next to the parameter values
>>> sorted(saved)
['adam.t', 'w.adam.m', 'w.adam.v']
>>> set_state_values(updates, saved)      # after rebuilding the model and the updates
"""

import numbers

import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable

from ._adaptive_updates import adadelta, adagrad, adam, adamax, amsgrad, rmsprop
from ._update_state import (OptimizerUpdates, StateMaker, cast_like, check_scalar,
                            get_or_compute_grads, get_state_values, set_state_values)
from .utils import as_theano_expression

__all__ = ["sgd", "apply_momentum", "momentum", "apply_nesterov_momentum", "nesterov_momentum",
           "adagrad", "rmsprop", "adadelta", "adam", "adamax", "amsgrad", "norm_constraint",
           "total_norm_constraint", "get_or_compute_grads", "OptimizerUpdates",
           "get_state_values", "set_state_values"]


def sgd(loss_or_grads, params, learning_rate):
    """Stochastic gradient descent: ``param <- param - learning_rate * g``.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter (each of its parameter's shape).
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate : float or symbolic scalar
        Step size.

    Returns
    -------
    OptimizerUpdates
        One update per parameter; ``state`` is empty.

    Examples
    --------
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name='w')
    >>> step = pytensor.function([], [], updates=sgd(pt.sum(w ** 2), [w], learning_rate=0.25))
    >>> _ = step()
    >>> w.get_value()
    array([ 0.5, -1. ])
    """
    check_scalar(learning_rate, "learning_rate")
    params = list(params)
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OptimizerUpdates()
    for param, grad in zip(params, grads):
        updates[param] = cast_like(param - learning_rate * grad, param)
    return updates


def _add_momentum(updates, params, momentum, optimizer, nesterov):
    """Copy ``updates`` (state included) and add a velocity to each of ``params``."""
    check_scalar(momentum, "momentum")
    result = OptimizerUpdates(updates, state=getattr(updates, "state", None))
    if params is None:
        state_ids = {id(variable) for variable in result.state.values()}
        params = [key for key in result if id(key) not in state_ids]
    params = list(params)
    for index, param in enumerate(params):
        if not isinstance(param, SharedVariable) or param not in result:
            raise ValueError(f"params[{index}] = {param!r} has no update in updates; expected "
                             "shared variables that are keys of updates")
    maker = StateMaker(result, optimizer, params)
    for index, param in enumerate(params):
        velocity = maker.slot(index, param, "velocity")
        if nesterov:
            x = momentum * velocity + result[param] - param
            result[velocity] = cast_like(x, velocity)
            result[param] = cast_like(momentum * x + result[param], param)
        else:
            x = momentum * velocity + result[param]
            result[velocity] = cast_like(x - param, velocity)
            result[param] = cast_like(x, param)
    return result


def apply_momentum(updates, params=None, momentum=0.9):
    """Add classical momentum to existing updates.

    For each parameter, with ``velocity`` starting at zero and ``updates[param]`` the wrapped
    update::

        x        = momentum * velocity + updates[param]
        velocity <- x - param
        param    <- x

    Parameters
    ----------
    updates : OrderedDict (or list of pairs)
        Shared variable -> update expression, e.g. from :func:`sgd` or any function here.
    params : list of SharedVariable, optional
        The variables to apply momentum to.  Defaults to every key of ``updates`` except the
        optimizer state listed in ``updates.state`` (Lasagne used every key; momentum on Adam's
        moments or step counter is never wanted).
    momentum : float or symbolic scalar
        Fraction of the last step kept, in ``[0, 1)``.  Larger values also mean larger steps;
        scale the learning rate by ``1 - momentum`` to compensate.

    Returns
    -------
    OptimizerUpdates
        A copy of ``updates`` with momentum; ``state`` is ``updates.state`` (if any) followed
        by ``"<param>.momentum.velocity"`` (the parameter's shape) for each of ``params``.

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> updates = apply_momentum(adam(pt.sum(w ** 2), [w]), momentum=0.5)
    >>> list(updates.state)
    ['w.adam.m', 'w.adam.v', 'adam.t', 'w.momentum.velocity']
    """
    return _add_momentum(updates, params, momentum, "momentum", nesterov=False)


def momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """Stochastic gradient descent with classical momentum.

    ``velocity <- momentum * velocity - learning_rate * g``;  ``param <- param + velocity``.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, momentum : float or symbolic scalar
        Step size, and fraction of the last step kept (in ``[0, 1)``).

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.momentum.velocity"`` (the parameter's shape).

    Examples
    --------
    >>> w = pytensor.shared(np.ones((2, 2)), name='w')
    >>> list(momentum(pt.sum(w ** 2), [w], learning_rate=0.1).state)
    ['w.momentum.velocity']
    """
    params = list(params)
    return apply_momentum(sgd(loss_or_grads, params, learning_rate), params, momentum)


def apply_nesterov_momentum(updates, params=None, momentum=0.9):
    """Add Nesterov momentum to existing updates.

    Uses the formulation that evaluates the gradient at the current parameters.  For each
    parameter, with ``velocity`` starting at zero::

        x        = momentum * velocity + updates[param] - param
        velocity <- x
        param    <- momentum * x + updates[param]

    Parameters
    ----------
    updates : OrderedDict (or list of pairs)
        Shared variable -> update expression.
    params : list of SharedVariable, optional
        Defaults to every key of ``updates`` except its optimizer state (as in
        :func:`apply_momentum`).
    momentum : float or symbolic scalar
        Fraction of the last step kept, in ``[0, 1)``.

    Returns
    -------
    OptimizerUpdates
        A copy of ``updates``; ``state`` is ``updates.state`` (if any) followed by
        ``"<param>.nesterov_momentum.velocity"`` for each of ``params``.

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> list(apply_nesterov_momentum(sgd(pt.sum(w ** 2), [w], 0.1)).state)
    ['w.nesterov_momentum.velocity']
    """
    return _add_momentum(updates, params, momentum, "nesterov_momentum", nesterov=True)


def nesterov_momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """Stochastic gradient descent with Nesterov momentum.

    ``velocity <- momentum * velocity - learning_rate * g``;
    ``param <- param + momentum * velocity - learning_rate * g``.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, momentum : float or symbolic scalar
        Step size, and fraction of the last step kept (in ``[0, 1)``).

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.nesterov_momentum.velocity"`` (the parameter's shape).

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> list(nesterov_momentum(pt.sum(w ** 2), [w], learning_rate=0.1).state)
    ['w.nesterov_momentum.velocity']
    """
    params = list(params)
    return apply_nesterov_momentum(sgd(loss_or_grads, params, learning_rate), params, momentum)


def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    """Rescale the slices of a tensor whose L2 norm exceeds ``max_norm`` (max-norm constraint).

    ``norms = sqrt(sum(x**2, norm_axes))``;  ``x * clip(norms, 0, max_norm) / (epsilon + norms)``.

    Parameters
    ----------
    tensor_var : tensor expression, 1 to 5 dimensions (any with ``norm_axes``)
        A weight, an update or a gradient.
    max_norm : float or symbolic scalar
        Largest norm allowed.
    norm_axes : int or sequence of int, optional
        Axes summed over for each norm.  Defaults to ``(0,)`` for vectors and matrices (one norm
        per output unit of a dense weight ``(n_in, n_out)``; Lasagne rejected vectors) and to
        all axes but the first for 3 to 5 dimensions (convolution filters).
    epsilon : float
        Keeps the division finite for zero norms.

    Returns
    -------
    tensor expression
        Same shape and dtype as ``tensor_var``.

    Raises
    ------
    ValueError
        If ``norm_axes`` is not given for a tensor of 0 or more than 5 dimensions.

    Examples
    --------
    >>> w = np.array([[3.0, 0.3], [4.0, 0.4]])    # column norms 5 and 0.5
    >>> norm_constraint(pt.as_tensor(w), 1.0).eval().round(4).tolist()
    [[0.6, 0.3], [0.8, 0.4]]
    """
    tensor_var = as_theano_expression(tensor_var)
    check_scalar(max_norm, "max_norm")
    ndim = tensor_var.ndim
    if norm_axes is not None:
        axes = (norm_axes,) if isinstance(norm_axes, numbers.Integral) else tuple(norm_axes)
    elif ndim in (1, 2):
        axes = (0,)
    elif ndim in (3, 4, 5):
        axes = tuple(range(1, ndim))
    else:
        raise ValueError(f"norm_constraint: no default norm_axes for a {ndim}-d tensor_var; "
                         "pass norm_axes")
    norms = pt.sqrt(pt.sum(tensor_var ** 2, axis=axes, keepdims=True))
    scale = pt.clip(norms, 0, max_norm) / (epsilon + norms)
    return cast_like(tensor_var * scale, tensor_var)


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7, return_norm=False):
    """Rescale a list of tensors together when their combined L2 norm exceeds ``max_norm``.

    Used for gradient clipping in recurrent networks: every tensor is multiplied by
    ``clip(norm, 0, max_norm) / (epsilon + norm)``, where ``norm`` is the L2 norm of all
    entries of all tensors.

    Parameters
    ----------
    tensor_vars : list of tensor expressions
        Any shapes (typically the gradients of all parameters).
    max_norm : float or symbolic scalar
        Largest combined norm allowed.
    epsilon : float
        Keeps the division finite for a zero norm.
    return_norm : bool
        Also return the combined norm before rescaling (worth logging every step).

    Returns
    -------
    list of tensor expressions
        The rescaled tensors, each of its input's shape and dtype.
    scalar expression
        The combined norm before rescaling; only when ``return_norm`` is true.

    Examples
    --------
    >>> g1, g2 = pt.as_tensor(np.array([3.0, 0.0])), pt.as_tensor(np.array([[4.0]]))
    >>> (s1, s2), norm = total_norm_constraint([g1, g2], 1.0, return_norm=True)
    >>> pytensor.function([], [s1, s2, norm])()
    [array([0.6, 0. ]), array([[0.8]]), array(5.)]
    """
    tensor_vars = [as_theano_expression(tensor) for tensor in tensor_vars]
    if not tensor_vars:
        raise ValueError("total_norm_constraint: tensor_vars is empty; expected at least one "
                         "tensor")
    check_scalar(max_norm, "max_norm")
    norm = pt.sqrt(sum(pt.sum(tensor ** 2) for tensor in tensor_vars))
    multiplier = pt.clip(norm, 0, max_norm) / (epsilon + norm)
    scaled = [cast_like(tensor * multiplier, tensor) for tensor in tensor_vars]
    return (scaled, norm) if return_norm else scaled
