"""Integer ids to learned vectors: :class:`EmbeddingLayer`."""

import numbers

from .. import init
from .base import Layer

__all__ = ["EmbeddingLayer"]


class EmbeddingLayer(Layer):
    """Look up a learned vector for every integer id.

    Parameters
    ----------
    incoming : Layer or tuple
        Integer ids in ``[0, input_size)``, any shape ``s``.  Give an
        :class:`~rnnlab.nn.layers.InputLayer` an integer ``input_var`` (e.g. ``T.imatrix``).
    input_size : int
        Number of distinct ids (vocabulary size).
    output_size : int
        Size of each embedding vector.
    W : initializer, numpy.ndarray or shared variable
        The embedding matrix, shape ``(input_size, output_size)``; row ``i`` is the vector of id
        ``i``.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Attributes
    ----------
    W : SharedVariable

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import InputLayer, EmbeddingLayer, get_output
    >>> l_in = InputLayer((None, 20), input_var=T.imatrix('ids'))
    >>> l_emb = EmbeddingLayer(l_in, input_size=50, output_size=8)
    >>> l_emb.output_shape
    (None, 20, 8)
    >>> l_tiny = EmbeddingLayer(InputLayer((None,)), 3, 2, W=np.arange(6.).reshape(3, 2))
    >>> get_output(l_tiny, np.array([2, 0])).eval().tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """

    def __init__(self, incoming, input_size, output_size, W=init.Normal(), **kwargs):
        super().__init__(incoming, **kwargs)
        for name, value in (("input_size", input_size), ("output_size", output_size)):
            if not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"EmbeddingLayer: {name}={value!r}; expected a positive int")
        self.input_size, self.output_size = int(input_size), int(output_size)
        self.W = self.add_param(W, (self.input_size, self.output_size), name="W")

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape + (output_size,)``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
        """
        return tuple(input_shape) + (self.output_size,)

    def get_output_for(self, input, **kwargs):
        """Return ``W[input]``.

        Parameters
        ----------
        input : integer tensor
            Ids, shape ``s``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shape ``s + (output_size,)``.

        Raises
        ------
        TypeError
            If ``input`` is not of an integer dtype.
        """
        if not input.dtype.startswith(("int", "uint")):
            raise TypeError(f"EmbeddingLayer: input of dtype {input.dtype}; expected integer ids "
                            "(use an integer input_var such as T.imatrix)")
        return self.W[input]
