"""Checks of layer arguments shared by several layer modules (not part of Lasagne's API)."""

import inspect
import numbers

import numpy as np

from .input import InputLayer


def check_grad_clipping(grad_clipping):
    """Return ``grad_clipping`` (0 for None/False) if it is a non-negative number."""
    if grad_clipping is None or grad_clipping is False:
        return 0
    if isinstance(grad_clipping, np.ndarray) and grad_clipping.ndim == 0:
        grad_clipping = grad_clipping[()]  # a 0-d array such as floatX(100)
    if (isinstance(grad_clipping, bool) or not isinstance(grad_clipping, numbers.Real)
            or grad_clipping < 0):
        raise ValueError(f"grad_clipping={grad_clipping!r}: expected a non-negative number "
                         "(0 disables clipping)")
    return grad_clipping


def check_shared_axes(shared_axes, input_shape, who, allow_all=False):
    """Return ``shared_axes`` ('auto', an int or ints; 'all' if ``allow_all``) as a sorted
    tuple of axes >= 0 of an input of ``input_shape``; 'auto' is every axis but axis 1."""
    ndim = len(input_shape)
    expected = ("expected 'auto', 'all', an int or a tuple of ints" if allow_all
                else "expected 'auto', an int or a tuple of ints")
    if isinstance(shared_axes, str):
        if shared_axes == "auto":
            return (0,) + tuple(range(2, ndim))
        if shared_axes == "all" and allow_all:
            return tuple(range(ndim))
        raise ValueError(f"{who}: shared_axes={shared_axes!r}; {expected}")
    if isinstance(shared_axes, numbers.Integral):
        shared_axes = (shared_axes,)
    try:
        axes = tuple(shared_axes)
    except TypeError:
        raise ValueError(f"{who}: shared_axes={shared_axes!r}; {expected}") from None
    if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) and -ndim <= a < ndim
               for a in axes):
        raise ValueError(f"{who}: shared_axes={shared_axes!r} holds an axis outside the "
                         f"{ndim}-dimensional input")
    return tuple(sorted({int(a) % ndim for a in axes}))


def broadcast_over(value, shared_axes, ndim):
    """``value`` (shaped as the input without ``shared_axes``) with broadcastable axes inserted
    at ``shared_axes``, so that it has ``ndim`` dimensions."""
    own = iter(range(value.ndim))
    return value.dimshuffle(*["x" if a in shared_axes else next(own) for a in range(ndim)])


def check_units(num_units):
    """Return ``num_units`` as an int if it is a positive integer; raise ValueError otherwise."""
    if isinstance(num_units, bool) or not isinstance(num_units, numbers.Integral) or num_units <= 0:
        raise ValueError(f"num_units={num_units!r}: expected a positive int")
    return int(num_units)


def accepted_kwargs(layers):
    """The keyword arguments that ``get_output`` may pass to ``layers`` (a set of names)."""
    # ``deterministic`` is the library-wide switch for noise layers (as in Lasagne): passing it to
    # a network that happens to have no noise layer is not a mistake worth a warning.
    names = {"deterministic"}
    for layer in layers:
        names.update(getattr(layer, "get_output_kwargs", ()))
        if isinstance(layer, InputLayer):
            continue
        try:
            params = list(inspect.signature(layer.get_output_for).parameters.values())[1:]
        except (AttributeError, TypeError, ValueError):  # not introspectable: as Lasagne, skip
            continue
        names.update(p.name for p in params
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return names
