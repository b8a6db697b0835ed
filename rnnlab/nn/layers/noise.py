"""Layers that add noise during training: dropout and Gaussian noise.

Both are identities when :func:`~rnnlab.nn.layers.get_output` is called with
``deterministic=True`` (evaluation).  Their random numbers come from PyTensor random generators
seeded, when the layer is created, from :func:`rnnlab.nn.random.get_rng` — so seeding that
generator makes the noise reproducible.  Every symbolic output gets its own generator variable,
registered as a *default update*: a function compiled with ``pytensor.function`` advances it on
each call, so each call draws new noise (as Theano's ``RandomStreams`` did in Lasagne).
"""

import numbers

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from ..random import RandomStreams
from .base import Layer

__all__ = ["DropoutLayer", "dropout", "dropout_channels", "spatial_dropout", "dropout_locations",
           "GaussianNoiseLayer"]


def _check_rate(value, name, who, upper, upper_open):
    """Check a probability or scale given as a number or a scalar expression."""
    if isinstance(value, Variable):
        if value.ndim != 0:
            raise ValueError(f"{who}: {name} is a {value.ndim}-d expression; expected a scalar")
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        value = value[()]  # floatX(0.5), as Lasagne-era code passes it
    if not isinstance(value, numbers.Real) or value < 0 or value > upper or (
            upper_open and value == upper):
        bound = f"[0, {upper})" if upper_open else f"[0, {upper}]"
        raise ValueError(f"{who}: {name}={value!r}; expected a number in {bound} or a scalar "
                         "expression")
    return value


def _is_zero(value):
    return not isinstance(value, Variable) and value == 0


class DropoutLayer(Layer):
    """Randomly set input entries to zero (dropout).

    Each entry is kept with probability ``1 - p`` and zeroed otherwise; kept entries are divided
    by ``1 - p`` when ``rescale``, so the expected output equals the input.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    p : float or scalar expression
        Probability of dropping an entry; in ``[0, 1)`` (``[0, 1]`` without rescaling).  A shared
        variable lets a schedule change it without recompiling.
    rescale : bool
        Divide the kept entries by ``1 - p``.
    shared_axes : tuple of int
        Axes along which the mask is shared (broadcast): e.g. ``(1,)`` for a ``(batch, time,
        features)`` input drops the same features at every time step.  Negative axes count from
        the end.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Notes
    -----
    ``get_output(..., deterministic=True)`` (or ``p == 0``) makes the layer an identity.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DropoutLayer, get_output
    >>> l_drop = DropoutLayer(InputLayer((None, 100)), p=0.2)
    >>> x = np.ones((2, 100))
    >>> y = get_output(l_drop, x).eval()
    >>> sorted(set(np.round(y.ravel(), 4).tolist()))  # zero or 1 / (1 - p)
    [0.0, 1.25]
    >>> float(get_output(l_drop, x, deterministic=True).eval().min())
    1.0
    """

    def __init__(self, incoming, p=0.5, rescale=True, shared_axes=(), **kwargs):
        super().__init__(incoming, **kwargs)
        self.p = _check_rate(p, "p", "DropoutLayer", 1, upper_open=bool(rescale))
        self.rescale = bool(rescale)
        ndim = len(self.input_shape)
        if isinstance(shared_axes, numbers.Integral):
            shared_axes = (shared_axes,)
        shared_axes = tuple(shared_axes)
        if not all(isinstance(a, numbers.Integral) and -ndim <= a < ndim for a in shared_axes):
            raise ValueError(f"DropoutLayer: shared_axes={shared_axes!r} holds an axis outside "
                             f"the {ndim}-dimensional input")
        self.shared_axes = tuple(sorted({int(a) % ndim for a in shared_axes}))
        self._srng = RandomStreams()

    def get_output_for(self, input, deterministic=False, **kwargs):
        """Apply a fresh dropout mask to ``input`` (unless deterministic).

        Parameters
        ----------
        input : tensor
            Shaped as ``input_shape``.
        deterministic : bool
            If True, return ``input`` unchanged.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape and dtype as ``input``.
        """
        if deterministic or _is_zero(self.p):
            return input
        retain = pt.cast(1 - pt.as_tensor(self.p), input.dtype)
        mask_shape = [1 if axis in self.shared_axes else input.shape[axis]
                      for axis in range(input.ndim)]
        mask = pt.cast(self._srng.draw("bernoulli", retain, size=mask_shape), input.dtype)
        if self.rescale:
            input = input / retain
        return input * mask


dropout = DropoutLayer  # shortcut, as in Lasagne


def dropout_channels(incoming, *args, **kwargs):
    """Drop whole channels: a :class:`DropoutLayer` sharing its mask over axes 2 and beyond.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, ...)``.
    *args, **kwargs
        Passed to :class:`DropoutLayer` (``p``, ``rescale``, ``name``); a ``shared_axes``
        given here is replaced, as in Lasagne.

    Returns
    -------
    DropoutLayer

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, dropout_channels
    >>> dropout_channels(InputLayer((None, 8, 5, 5)), p=0.1).shared_axes
    (2, 3)
    """
    ndim = len(incoming if isinstance(incoming, tuple) else incoming.output_shape)
    kwargs["shared_axes"] = tuple(range(2, ndim))
    return DropoutLayer(incoming, *args, **kwargs)


spatial_dropout = dropout_channels  # Lasagne's other name for it


def dropout_locations(incoming, *args, **kwargs):
    """Drop whole locations: a :class:`DropoutLayer` sharing its mask over axis 1 (channels).

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, ...)``.
    *args, **kwargs
        Passed to :class:`DropoutLayer`; a ``shared_axes`` given here is replaced, as in
        Lasagne.

    Returns
    -------
    DropoutLayer

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, dropout_locations
    >>> dropout_locations(InputLayer((None, 8, 5, 5))).shared_axes
    (1,)
    """
    kwargs["shared_axes"] = (1,)
    return DropoutLayer(incoming, *args, **kwargs)


class GaussianNoiseLayer(Layer):
    """Add zero-mean Gaussian noise to the input.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    sigma : float or scalar expression
        Standard deviation of the noise, ``>= 0``.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Notes
    -----
    ``get_output(..., deterministic=True)`` (or ``sigma == 0``) makes the layer an identity.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, GaussianNoiseLayer, get_output
    >>> l_noise = GaussianNoiseLayer(InputLayer((None, 1000)), sigma=0.5)
    >>> y = get_output(l_noise, np.zeros((1, 1000))).eval()
    >>> bool(0.4 < y.std() < 0.6)
    True
    """

    def __init__(self, incoming, sigma=0.1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.sigma = _check_rate(sigma, "sigma", "GaussianNoiseLayer", np.inf, upper_open=True)
        self._srng = RandomStreams()

    def get_output_for(self, input, deterministic=False, **kwargs):
        """Return ``input`` plus fresh noise (unless deterministic).

        Parameters
        ----------
        input : tensor
        deterministic : bool
            If True, return ``input`` unchanged.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Same shape and dtype as ``input``.
        """
        if deterministic or _is_zero(self.sigma):
            return input
        sigma = pt.cast(self.sigma, input.dtype)
        noise = self._srng.draw("normal", 0.0, sigma, size=input.shape)
        return input + pt.cast(noise, input.dtype)
