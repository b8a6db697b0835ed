"""Layers that only rearrange their input: reshape, flatten, dimshuffle, pad and slice.

None of them has parameters.  Each computes its output shape from plain tuples (``None`` for sizes
known only at run time) and its output with a single PyTensor shape operation.
"""

import numbers

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from .base import Layer

__all__ = ["ReshapeLayer", "reshape", "FlattenLayer", "flatten", "DimshuffleLayer", "dimshuffle",
           "PadLayer", "pad", "SliceLayer"]


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_reshape_entry(entry, shape):
    if _is_int(entry):
        if entry == 0 or entry < -1:
            raise ValueError(f"ReshapeLayer: shape {shape} holds {entry}; integer entries must be "
                             "positive or -1")
    elif isinstance(entry, list):
        if len(entry) != 1 or not _is_int(entry[0]) or entry[0] < 0:
            raise ValueError(f"ReshapeLayer: shape {shape} holds {entry}; a reference to an input "
                             "dimension must be a one-element list [i] with i >= 0")
    elif isinstance(entry, Variable):
        if entry.ndim != 0 or not entry.dtype.startswith(("int", "uint")):
            raise ValueError(f"ReshapeLayer: shape {shape} holds the expression {entry}; "
                             "symbolic entries must be integer scalars")
    else:
        raise ValueError(f"ReshapeLayer: shape {shape} holds {entry!r}; expected ints, -1, [i] "
                         "or integer scalar expressions")


class ReshapeLayer(Layer):
    """Reshape the input, copying or inferring some sizes.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape.
    shape : tuple, list or other iterable
        The output shape.  Each entry is a positive int; ``[i]``, copying the size of input
        dimension ``i``; ``-1``, inferred so that the number of elements is kept (at most one);
        or an integer scalar expression (reported as ``None`` in ``output_shape``).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Raises
    ------
    ValueError
        For malformed entries, more than one ``-1``, a reference to a missing input dimension,
        or a shape whose number of elements cannot match the input's.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, ReshapeLayer, get_output
    >>> l_in = InputLayer((None, 100, 20))
    >>> ReshapeLayer(l_in, ([0], [1], 5, -1)).output_shape
    (None, 100, 5, 4)
    >>> ReshapeLayer(l_in, (-1, 20)).output_shape
    (None, 20)
    >>> x = np.arange(6.).reshape(1, 2, 3)
    >>> get_output(ReshapeLayer(InputLayer((None, 2, 3)), ([0], -1)), x).eval().shape
    (1, 6)
    """

    def __init__(self, incoming, shape, **kwargs):
        super().__init__(incoming, **kwargs)
        try:
            shape = tuple(shape)
        except TypeError:
            raise ValueError(f"ReshapeLayer: shape {shape!r} must be a tuple of ints, -1, [i] "
                             "or integer scalar expressions") from None
        for entry in shape:
            _check_reshape_entry(entry, shape)
        if sum(1 for s in shape if _is_int(s) and s == -1) > 1:
            raise ValueError(f"ReshapeLayer: shape {shape} holds more than one -1")
        self.shape = shape
        self.output_shape  # noqa: B018 -- fail now on shapes that cannot match the input

    def get_output_shape_for(self, input_shape):
        """Return the output shape; ``None`` where a size is unknown.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            ``len(self.shape)`` entries.
        """
        out, contrib = [], []  # contrib: output sizes that count towards the element total
        cancelled = set()  # unknown input sizes copied with [i] cancel against the output
        for entry in self.shape:
            if isinstance(entry, list):
                axis = entry[0]
                if axis >= len(input_shape):
                    raise ValueError(f"ReshapeLayer: shape {self.shape} refers to input dimension "
                                     f"{axis}, but the input shape {input_shape} has "
                                     f"{len(input_shape)} dimensions")
                out.append(input_shape[axis])
                if input_shape[axis] is None and axis not in cancelled:
                    cancelled.add(axis)
                else:
                    contrib.append(input_shape[axis])
            elif isinstance(entry, Variable):
                out.append(None)
                contrib.append(None)
            else:
                out.append(entry)
                if entry != -1:
                    contrib.append(entry)
        rest_in = [s for i, s in enumerate(input_shape) if i not in cancelled]
        in_size = None if None in rest_in else int(np.prod(rest_in, dtype=np.int64))
        out_size = None if None in contrib else int(np.prod(contrib, dtype=np.int64))
        if -1 in out:
            axis = out.index(-1)
            if in_size is None or out_size is None:
                out[axis] = None
            elif in_size % out_size:
                raise ValueError(f"ReshapeLayer: cannot reshape input of shape {input_shape} to "
                                 f"{self.shape}: {in_size} elements do not divide by {out_size}")
            else:
                out[axis] = in_size // out_size
        elif in_size is not None and out_size is not None and in_size != out_size:
            raise ValueError(f"ReshapeLayer: cannot reshape input of shape {input_shape} to "
                             f"{self.shape}: {in_size} elements != {out_size}")
        return tuple(out)

    def get_output_for(self, input, **kwargs):
        """Reshape ``input``.

        Parameters
        ----------
        input : tensor
            Shaped as ``input_shape``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            ``len(self.shape)`` dimensions.
        """
        shape = [input.shape[e[0]] if isinstance(e, list) else e for e in self.shape]
        return input.reshape(shape, ndim=len(shape))


reshape = ReshapeLayer  # shortcut, as in Lasagne


class FlattenLayer(Layer):
    """Flatten the trailing dimensions of the input into one.

    Parameters
    ----------
    incoming : Layer or tuple
        Input with at least ``outdim`` dimensions.
    outdim : int
        Number of output dimensions: the first ``outdim - 1`` are kept, the rest are merged.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, FlattenLayer
    >>> l_in = InputLayer((None, 4, 5, 6))
    >>> FlattenLayer(l_in).output_shape
    (None, 120)
    >>> FlattenLayer(l_in, outdim=3).output_shape
    (None, 4, 30)
    """

    def __init__(self, incoming, outdim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        if not _is_int(outdim) or outdim < 1:
            raise ValueError(f"FlattenLayer: outdim={outdim!r}; expected an int > 0")
        self.outdim = outdim

    def get_output_shape_for(self, input_shape):
        """Return ``input_shape[:outdim - 1] + (product of the rest,)``.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            ``outdim`` entries; the last is ``None`` if any merged size is unknown.
        """
        if self.outdim > len(input_shape):
            raise ValueError(f"FlattenLayer: outdim={self.outdim} is more than the input's "
                             f"{len(input_shape)} dimensions")
        rest = input_shape[self.outdim - 1:]
        size = None if None in rest else int(np.prod(rest, dtype=np.int64))
        return tuple(input_shape[:self.outdim - 1]) + (size,)

    def get_output_for(self, input, **kwargs):
        """Flatten ``input`` to ``outdim`` dimensions.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            ``outdim`` dimensions.
        """
        return pt.flatten(input, self.outdim)


flatten = FlattenLayer  # shortcut, as in Lasagne


class DimshuffleLayer(Layer):
    """Permute, insert and drop dimensions.

    Parameters
    ----------
    incoming : Layer or tuple
    pattern : tuple
        One entry per output dimension: an int ``i`` takes input dimension ``i``; ``'x'`` inserts
        a broadcastable dimension of size 1.  Input dimensions left out are dropped; their size
        must be 1 (or ``None``, then checked to be 1 at run time).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DimshuffleLayer, get_output
    >>> l_in = InputLayer((2, 3, 1))
    >>> DimshuffleLayer(l_in, (1, 'x', 0)).output_shape
    (3, 1, 2)
    >>> l_swap = DimshuffleLayer(InputLayer((None, 3)), (1, 0))
    >>> get_output(l_swap, np.zeros((2, 3))).eval().shape
    (3, 2)
    """

    def __init__(self, incoming, pattern, **kwargs):
        super().__init__(incoming, **kwargs)
        pattern = tuple(pattern)
        for p in pattern:
            if not (p == "x" or (_is_int(p) and p >= 0)):
                raise ValueError(f"DimshuffleLayer: pattern {pattern} holds {p!r}; expected "
                                 "non-negative ints or 'x'")
        ints = [p for p in pattern if p != "x"]
        if len(set(ints)) != len(ints):
            raise ValueError(f"DimshuffleLayer: pattern {pattern} uses an input dimension twice")
        self.pattern = pattern
        self.output_shape  # noqa: B018 -- fail now if the pattern does not fit the input

    def get_output_shape_for(self, input_shape):
        """Return the permuted shape.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            ``len(pattern)`` entries.

        Raises
        ------
        ValueError
            If the pattern names a missing dimension or drops one whose size is not 1.
        """
        out = []
        for p in self.pattern:
            if p == "x":
                out.append(1)
            elif p >= len(input_shape):
                raise ValueError(f"DimshuffleLayer: pattern {self.pattern} refers to dimension "
                                 f"{p}, but the input shape {input_shape} has {len(input_shape)}")
            else:
                out.append(input_shape[p])
        for axis, size in enumerate(input_shape):
            if axis not in self.pattern and size not in (1, None):
                raise ValueError(f"DimshuffleLayer: pattern {self.pattern} drops dimension {axis} "
                                 f"of size {size}; only dimensions of size 1 can be dropped")
        return tuple(out)

    def get_output_for(self, input, **kwargs):
        """Apply the pattern to ``input``.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            ``len(pattern)`` dimensions.
        """
        dropped = [axis for axis in range(input.ndim)
                   if axis not in self.pattern and input.type.shape[axis] != 1]
        if dropped:  # sizes unknown statically: assert they are 1 at run time
            input = pt.specify_broadcastable(input, *dropped)
        return input.dimshuffle(*self.pattern)


dimshuffle = DimshuffleLayer  # shortcut, as in Lasagne


def _pad_widths(width, ndim):
    """``width`` as ``ndim`` ``(before, after)`` pairs: an int, or one int or pair per axis."""
    if _is_int(width):
        return [(width, width)] * ndim
    pairs = []
    try:
        for entry in width:
            before, after = (entry, entry) if _is_int(entry) else entry
            pairs.append((before, after))
    except (TypeError, ValueError):
        raise ValueError(f"PadLayer: width {width!r}; expected an int, or one int or "
                         "(before, after) pair per padded axis") from None
    if len(pairs) > ndim:
        raise ValueError(f"PadLayer: width {width!r} gives {len(pairs)} axes; the input has "
                         f"{ndim} axes after the batch axes")
    pairs += [(0, 0)] * (ndim - len(pairs))  # as Lasagne: a short list pads the first axes
    if not all(_is_int(w) and w >= 0 for pair in pairs for w in pair):
        raise ValueError(f"PadLayer: width {width!r}; expected non-negative ints")
    return pairs


class PadLayer(Layer):
    """Pad the trailing axes of the input with a constant value.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of any shape with more than ``batch_ndim`` axes.
    width : int or iterable of int or of (int, int)
        Padding of the axes after the first ``batch_ndim``: one width for both sides of every
        axis, or one entry per axis from the first (a width, or a ``(before, after)`` pair); axes
        beyond the entries given are not padded.
    val : float
        The value padded in.
    batch_ndim : int
        Leading axes left alone (2: batch and channels).
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer` (``name``).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, PadLayer, get_output
    >>> l_pad = PadLayer(InputLayer((None, 1, 2)), width=[(1, 2)], val=9)
    >>> l_pad.output_shape
    (None, 1, 5)
    >>> get_output(l_pad, np.array([[[1.0, 2.0]]])).eval().tolist()
    [[[9.0, 1.0, 2.0, 9.0, 9.0]]]
    """

    def __init__(self, incoming, width, val=0, batch_ndim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        if not _is_int(batch_ndim) or not 0 <= batch_ndim < len(self.input_shape):
            raise ValueError(f"PadLayer: batch_ndim={batch_ndim!r} for an input of "
                             f"{len(self.input_shape)} axes; expected an int leaving an axis")
        self.width, self.val, self.batch_ndim = width, val, batch_ndim
        self._pairs = _pad_widths(width, len(self.input_shape) - batch_ndim)

    def get_output_shape_for(self, input_shape):
        """Return the input shape with each padded size grown by its two widths.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            ``None`` stays ``None``.
        """
        padded = [None if size is None else size + before + after
                  for size, (before, after) in zip(input_shape[self.batch_ndim:], self._pairs)]
        return tuple(input_shape[:self.batch_ndim]) + tuple(padded)

    def get_output_for(self, input, **kwargs):
        """Return the padded input.

        Parameters
        ----------
        input : tensor
            Shaped as ``input_shape``.
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shaped as ``output_shape``.
        """
        pairs = [(0, 0)] * self.batch_ndim + list(self._pairs)
        return pt.pad(input, pairs, mode="constant", constant_values=self.val)


#: Alias of :class:`PadLayer`, as in Lasagne.
pad = PadLayer


class SliceLayer(Layer):
    """Index or slice the input along one axis.

    Parameters
    ----------
    incoming : Layer or tuple
    indices : int or slice
        An int selects one entry and drops the axis; a slice keeps it.
    axis : int
        The axis to index; negative values count from the end.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.Layer`.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, SliceLayer, get_output
    >>> l_in = InputLayer((None, 10, 3))
    >>> SliceLayer(l_in, -1, axis=1).output_shape
    (None, 3)
    >>> SliceLayer(l_in, slice(2, None, 3), axis=1).output_shape
    (None, 3, 3)
    >>> x = np.arange(6.).reshape(2, 3)
    >>> get_output(SliceLayer(InputLayer((None, 3)), slice(0, 2)), x).eval().tolist()
    [[0.0, 1.0], [3.0, 4.0]]
    """

    def __init__(self, incoming, indices, axis=-1, **kwargs):
        super().__init__(incoming, **kwargs)
        if not (_is_int(indices) or isinstance(indices, slice)):
            raise ValueError(f"SliceLayer: indices={indices!r}; expected an int or a slice")
        ndim = len(self.input_shape)
        if not _is_int(axis) or not -ndim <= axis < ndim:
            raise ValueError(f"SliceLayer: axis={axis!r} is not an axis of the "
                             f"{ndim}-dimensional input")
        self.indices, self.axis = indices, axis
        self.slice = indices  # Lasagne's name for it
        self.output_shape  # noqa: B018 -- fail now on an index out of range

    def get_output_shape_for(self, input_shape):
        """Return the input shape with the sliced axis resized (or dropped for an int index).

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
        """
        axis = self.axis % len(input_shape)
        size = input_shape[axis]
        if isinstance(self.indices, slice):
            new = None if size is None else len(range(*self.indices.indices(size)))
            return input_shape[:axis] + (new,) + input_shape[axis + 1:]
        if size is not None and not -size <= self.indices < size:
            raise ValueError(f"SliceLayer: index {self.indices} is out of range for axis "
                             f"{self.axis} of size {size}")
        return input_shape[:axis] + input_shape[axis + 1:]

    def get_output_for(self, input, **kwargs):
        """Index ``input``.

        Parameters
        ----------
        input : tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            One dimension fewer for an int index, as many for a slice.
        """
        axis = self.axis % input.ndim
        return input[(slice(None),) * axis + (self.indices,)]
