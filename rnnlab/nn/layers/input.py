"""The entry point of a network: :class:`InputLayer`."""

import numbers
from collections import OrderedDict

import pytensor
import pytensor.tensor as pt

from .base import Layer

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """A network input: holds a symbolic variable and its expected shape.

    Parameters
    ----------
    shape : tuple of int or None
        Expected input shape; ``None`` marks sizes that vary (batch size, sequence length).
    input_var : Variable, optional
        The symbolic input.  By default a new tensor of ``len(shape)`` dimensions and dtype
        floatX is created, named ``"<name>.input"`` when the layer has a name.
    name : str, optional

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import InputLayer
    >>> l_in = InputLayer((None, 20, 3))
    >>> l_in.output_shape, l_in.input_var.ndim
    ((None, 20, 3), 3)
    >>> InputLayer((None, 5), input_var=T.imatrix('ids')).input_var.name
    'ids'
    """

    def __init__(self, shape, input_var=None, name=None, **kwargs):
        self.shape = tuple(shape)
        if any(d is not None and (not isinstance(d, numbers.Integral) or isinstance(d, bool)
                                  or d <= 0) for d in self.shape):
            raise ValueError(f"InputLayer {name or ''}: shape {self.shape} must hold positive "
                             "ints or None")
        self.shape = tuple(None if d is None else int(d) for d in self.shape)  # e.g. X.shape[1]
        ndim = len(self.shape)
        if input_var is None:
            var_name = f"{name}.input" if name is not None else "input"
            static = tuple(1 if d == 1 else None for d in self.shape)
            input_var = pt.tensor(var_name, dtype=pytensor.config.floatX, shape=static)
        elif input_var.ndim != ndim:
            raise ValueError(f"InputLayer {name or ''}: input_var has {input_var.ndim} dimensions "
                             f"but shape {self.shape} has {ndim}")
        self.input_var = input_var
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []

    @Layer.output_shape.getter
    def output_shape(self):
        """tuple: The declared input shape."""
        return self.shape
