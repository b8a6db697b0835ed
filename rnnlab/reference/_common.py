"""Argument checks and small numeric helpers shared by the Elman and LSTM references.

Everything here is plain numpy in float64.  The checks turn a wrong shape or value into a one-line
``ValueError``/``TypeError`` that names the argument, the value given and what was expected.
"""

import numbers

import numpy as np

__all__ = ["sigmoid", "as_float64", "num_units_of", "check_params", "check_inputs", "check_dH",
           "truncation_start", "make_rng"]


def sigmoid(a):
    """Logistic sigmoid ``1 / (1 + exp(-a))``, elementwise, without overflow warnings.

    Parameters
    ----------
    a : array_like, any shape

    Returns
    -------
    numpy.ndarray
        Same shape as ``a``, values in ``[0, 1]``.  Its derivative is ``s * (1 - s)``.

    Examples
    --------
    >>> sigmoid(np.array([0.0, 1000.0, -1000.0]))
    array([0.5, 1. , 0. ])
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=np.float64)))


def as_float64(name, value, ndim):
    """``value`` as a float64 array with ``ndim`` axes, or a ValueError naming ``name``.

    Examples
    --------
    >>> as_float64("h0", [[1, 2]], 2)
    array([[1., 2.]])
    """
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} has shape {array.shape}; expected an array with {ndim} axes")
    return array


def num_units_of(params, key):
    """``U``, read from the length of the bias vector ``params[key]``.

    Examples
    --------
    >>> num_units_of({"b": np.zeros(4)}, "b")
    4
    """
    if not isinstance(params, dict):
        raise TypeError(f"params is a {type(params).__name__}; expected a dict of arrays")
    if key not in params:
        raise ValueError(f"params has keys {sorted(params)}; missing {key!r}")
    shape = np.shape(params[key])
    if len(shape) != 1:
        raise ValueError(f"params[{key!r}] has shape {shape}; expected (num_units,)")
    return shape[0]


def check_params(params, shapes):
    """Return float64 copies of ``params`` after checking their names and shapes.

    Parameters
    ----------
    params : dict of str -> array_like
        The parameter values; keys beyond ``shapes`` are an error (a misspelt name must not be
        silently ignored).
    shapes : dict of str -> tuple of int
        The expected name -> shape.

    Returns
    -------
    dict of str -> numpy.ndarray

    Examples
    --------
    >>> check_params({"b": [0, 1]}, {"b": (2,)})
    {'b': array([0., 1.])}
    >>> check_params({"b": [0, 1]}, {"b": (3,)})
    Traceback (most recent call last):
    ...
    ValueError: params['b'] has shape (2,); expected (3,)
    """
    if not isinstance(params, dict):
        raise TypeError(f"params is a {type(params).__name__}; expected a dict of arrays")
    missing = sorted(set(shapes) - set(params))
    unknown = sorted(set(params) - set(shapes))
    if missing or unknown:
        raise ValueError(f"params has keys {sorted(params)}; missing {missing}, unexpected "
                         f"{unknown}")
    checked = {}
    for name, shape in shapes.items():
        value = np.asarray(params[name], dtype=np.float64)
        if value.shape != tuple(shape):
            raise ValueError(f"params[{name!r}] has shape {value.shape}; expected {tuple(shape)}")
        checked[name] = value
    return checked


def check_inputs(x, states, mask, num_units):
    """Check a sequence batch, its initial states and mask; return them as float64 arrays.

    Parameters
    ----------
    x : array_like, shape ``(B, T, D)``
    states : dict of str -> array_like, each of shape ``(B, U)``
        Initial states by argument name (``{"h0": ...}`` or ``{"h0": ..., "c0": ...}``).
    mask : None or array_like, shape ``(B, T)``
        Entries must be 0 or 1; ``None`` means all ones.
    num_units : int
        ``U``.

    Returns
    -------
    x : numpy.ndarray, shape ``(B, T, D)``
    states : dict of str -> numpy.ndarray, each ``(B, U)``
    mask : numpy.ndarray, shape ``(B, T)``

    Examples
    --------
    >>> x, states, mask = check_inputs(np.zeros((2, 3, 1)), {"h0": np.zeros((2, 4))}, None, 4)
    >>> mask
    array([[1., 1., 1.],
           [1., 1., 1.]])
    """
    x = as_float64("x", x, 3)
    batch, steps = x.shape[:2]
    if steps < 1:
        raise ValueError(f"x has shape {x.shape}; expected at least one time step")
    checked = {}
    for name, value in states.items():
        value = as_float64(name, value, 2)
        if value.shape != (batch, num_units):
            raise ValueError(f"{name} has shape {value.shape}; expected (batch, units) = "
                             f"{(batch, num_units)}")
        checked[name] = value
    if mask is None:
        mask = np.ones((batch, steps))
    mask = as_float64("mask", mask, 2)
    if mask.shape != (batch, steps):
        raise ValueError(f"mask has shape {mask.shape}; expected (batch, time) = {(batch, steps)}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"mask has values {np.unique(mask)[:5]}; expected only 0 and 1")
    return x, checked, mask


def check_dH(dH, shape):
    """``dH`` (the loss gradient w.r.t. the hidden states) as float64 of the forward's shape.

    Examples
    --------
    >>> check_dH(np.ones((1, 2, 3)), (1, 2, 3)).dtype
    dtype('float64')
    """
    dH = np.asarray(dH, dtype=np.float64)
    if dH.shape != tuple(shape):
        raise ValueError(f"dH has shape {dH.shape}; expected the hidden states' shape "
                         f"{tuple(shape)}")
    return dH


def truncation_start(num_steps, gradient_steps):
    """First time step the truncated backward pass visits (``scan(truncate_gradient=k)``).

    Parameters
    ----------
    num_steps : int
        ``T``.
    gradient_steps : int
        ``-1`` for full backpropagation through time, otherwise ``k >= 1``.

    Returns
    -------
    int
        ``max(T - k, 0)``, or 0 for full BPTT.  The backward pass runs over ``t = T-1 .. start``.

    Examples
    --------
    >>> truncation_start(5, 2), truncation_start(5, -1), truncation_start(5, 9)
    (3, 0, 0)
    """
    if isinstance(gradient_steps, bool) or not isinstance(gradient_steps, numbers.Integral):
        raise TypeError(f"gradient_steps is {gradient_steps!r}; expected an int (-1 for full "
                        "BPTT)")
    if gradient_steps == -1:
        return 0
    if gradient_steps < 1:
        raise ValueError(f"gradient_steps is {gradient_steps}; expected -1 (full BPTT) or >= 1")
    return max(num_steps - int(gradient_steps), 0)


def make_rng(rng):
    """A ``numpy.random.Generator`` from a Generator or an int seed.

    Examples
    --------
    >>> make_rng(0).normal() == make_rng(0).normal()
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng is {rng!r}; expected a numpy.random.Generator or an int seed")
