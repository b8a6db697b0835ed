"""Fully connected layers: :class:`DenseLayer`, and :class:`NINLayer` (one per position)."""

import numbers

import numpy as np
import pytensor.tensor as pt

from .. import init, nonlinearities
from .base import Layer

__all__ = ["DenseLayer", "NINLayer"]


class DenseLayer(Layer):
    """A fully connected layer: ``nonlinearity(dot(x, W) + b)``.

    The first ``num_leading_axes`` input axes are kept (batch, time, ...); the remaining trailing
    axes are flattened into ``num_inputs`` features and mapped to ``num_units``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``leading + trailing``; the trailing sizes must be known.
    num_units : int
        Number of output units.
    W : initializer, numpy.ndarray or shared variable
        Weights, shape ``(num_inputs, num_units)`` with ``num_inputs = prod(trailing)``.
    b : initializer, numpy.ndarray, shared variable or None
        Biases, shape ``(num_units,)``, tagged ``regularizable=False``; ``None`` for no bias.
    nonlinearity : callable or None
        Applied to the output; ``None`` means identity.
    num_leading_axes : int
        Number of leading axes kept; negative values count from the end (``-1`` flattens
        nothing but the last axis, whatever the input's dimensions).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Attributes
    ----------
    W : SharedVariable
    b : SharedVariable or None

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_output
    >>> l_in = InputLayer((None, 10, 3))
    >>> DenseLayer(l_in, 5).output_shape  # flattens (10, 3) into 30 inputs
    (None, 5)
    >>> l_time = DenseLayer(l_in, 5, num_leading_axes=2)  # applied at every time step
    >>> l_time.output_shape, l_time.W.get_value().shape
    ((None, 10, 5), (3, 5))
    >>> l_lin = DenseLayer(InputLayer((None, 2)), 1, W=np.ones((2, 1)), nonlinearity=None)
    >>> get_output(l_lin, np.array([[1., -3.]])).eval().tolist()
    [[-2.0]]
    """

    def __init__(self, incoming, num_units, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, num_leading_axes=1, **kwargs):
        super().__init__(incoming, **kwargs)
        if not isinstance(num_units, numbers.Integral) or num_units <= 0:
            raise ValueError(f"DenseLayer: num_units={num_units!r}; expected a positive int")
        ndim = len(self.input_shape)
        if (not isinstance(num_leading_axes, numbers.Integral)
                or not -ndim <= num_leading_axes < ndim):
            raise ValueError(f"DenseLayer: num_leading_axes={num_leading_axes!r} for a "
                             f"{ndim}-dimensional input; expected an int in [{-ndim}, {ndim - 1}] "
                             "leaving at least one trailing axis")
        if nonlinearity is not None and not callable(nonlinearity):
            raise TypeError(f"DenseLayer: nonlinearity={nonlinearity!r} is not callable")
        trailing = self.input_shape[num_leading_axes:]
        if None in trailing:
            raise ValueError(f"DenseLayer: input shape {self.input_shape} has unknown sizes among "
                             f"the trailing axes {trailing} (num_leading_axes="
                             f"{num_leading_axes}); they must be known")
        self.num_units = int(num_units)
        self.num_leading_axes = int(num_leading_axes)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        num_inputs = int(np.prod(trailing, dtype=np.int64))
        self.W = self.add_param(W, (num_inputs, self.num_units), name="W")
        self.b = (None if b is None else
                  self.add_param(b, (self.num_units,), name="b", regularizable=False))

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape[:num_leading_axes] + (num_units,)``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
        """
        return tuple(input_shape[:self.num_leading_axes]) + (self.num_units,)

    def get_output_for(self, input, **kwargs):
        """Compute ``nonlinearity(dot(x, W) + b)`` over the trailing axes of ``input``.

        Parameters
        ----------
        input : tensor
            Shape ``leading + trailing``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shape ``leading + (num_units,)``.
        """
        leading = self.num_leading_axes
        if leading < 0:
            leading += input.ndim
        if input.ndim > leading + 1:
            input = pt.flatten(input, leading + 1)
        activation = pt.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return self.nonlinearity(activation)


class NINLayer(Layer):
    """A dense layer applied across the channels at every position ("network in network").

    For an input ``(batch, channels, *positions)``, each position's channel vector is mapped by
    the same ``W``: ``out[b, u, ...] = nonlinearity(sum_c x[b, c, ...] W[c, u] + b[u, ...])``,
    i.e. a convolution with a 1x1 filter (Lin et al., 2013).

    Parameters
    ----------
    incoming : Layer or tuple
        Input ``(batch, channels, *positions)``; the channel count must be known.
    num_units : int
        Output channels.
    untie_biases : bool
        One bias per unit and position, shape ``(num_units, *positions)`` (the position sizes
        must be known), instead of one per unit, ``(num_units,)``.
    W : initializer, numpy.ndarray or shared variable
        ``(channels, num_units)``.
    b : initializer, numpy.ndarray, shared variable or None
        Tagged ``regularizable=False``; ``None`` for no bias.
    nonlinearity : callable or None
        ``None`` means linear.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, NINLayer, get_output
    >>> l_nin = NINLayer(InputLayer((None, 3, 4, 5)), 2, W=np.ones((3, 2)), nonlinearity=None)
    >>> l_nin.output_shape
    (None, 2, 4, 5)
    >>> get_output(l_nin, np.ones((1, 3, 4, 5))).eval()[0, :, 0, 0].tolist()   # 3 ones summed
    [3.0, 3.0]
    """

    def __init__(self, incoming, num_units, untie_biases=False, W=init.GlorotUniform(),
                 b=init.Constant(0.), nonlinearity=nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        if not isinstance(num_units, numbers.Integral) or num_units <= 0:
            raise ValueError(f"NINLayer: num_units={num_units!r}; expected a positive int")
        if len(self.input_shape) < 2 or self.input_shape[1] is None:
            raise ValueError(f"NINLayer: input shape {self.input_shape} needs a known number of "
                             "channels on axis 1")
        self.num_units = int(num_units)
        self.untie_biases = untie_biases
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.W = self.add_param(W, (self.input_shape[1], self.num_units), name="W")
        if b is None:
            self.b = None
        else:
            shape = (self.num_units,) + (tuple(self.input_shape[2:]) if untie_biases else ())
            self.b = self.add_param(b, shape, name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        """Return ``(batch, num_units, *positions)``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
        """
        return (input_shape[0], self.num_units) + tuple(input_shape[2:])

    def get_output_for(self, input, **kwargs):
        """Apply ``W`` to the channel axis at every position.

        Parameters
        ----------
        input : tensor
            ``(batch, channels, *positions)``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            ``(batch, num_units, *positions)``.
        """
        positions = list(range(2, input.ndim))
        # tensordot contracts the channels: (num_units, batch, *positions), then batch first
        activation = pt.tensordot(self.W, input, axes=[[0], [1]]).dimshuffle(1, 0, *positions)
        if self.b is not None:
            if self.untie_biases:  # b is (num_units, *positions)
                activation = activation + pt.shape_padleft(self.b)
            else:
                activation = activation + self.b.dimshuffle("x", 0, *["x"] * len(positions))
        return self.nonlinearity(activation)
