"""Layers that combine several inputs: concatenation and elementwise merges.

Inputs of different sizes can be cropped to a common size first (``cropping``): per axis,
``None`` leaves the axis alone and ``'lower'``, ``'center'`` or ``'upper'`` crop every input to the
smallest size along that axis, keeping its first, middle or last entries.
"""

import functools
import numbers

import pytensor.tensor as pt

from .base import MergeLayer

__all__ = ["autocrop", "autocrop_array_shapes", "ConcatLayer", "concat", "ElemwiseMergeLayer",
           "ElemwiseSumLayer"]

_CROP_MODES = (None, "lower", "center", "upper")


def _check_cropping(cropping, where):
    if cropping is None:
        return None
    if not isinstance(cropping, (list, tuple)) or any(c not in _CROP_MODES for c in cropping):
        raise ValueError(f"{where}: cropping={cropping!r}; expected None or a list of None, "
                         "'lower', 'center' or 'upper' (one per axis)")
    return list(cropping)


def _check_same_ndim(ndims, what):
    if len(set(ndims)) > 1:
        raise ValueError(f"{what}: inputs have different numbers of dimensions {list(ndims)}")


def autocrop(inputs, cropping):
    """Crop symbolic inputs to a common size along the axes that ``cropping`` names.

    Parameters
    ----------
    inputs : list of tensor
        All with the same number of dimensions.
    cropping : None or list
        Per leading axis ``None``, ``'lower'``, ``'center'`` or ``'upper'``; missing trailing
        entries mean ``None``.  ``None`` returns the inputs unchanged.

    Returns
    -------
    list of tensor
        Along every cropped axis all outputs have the smallest input size.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.layers import autocrop
    >>> a, b = np.arange(5.), np.arange(3.)
    >>> [x.eval().tolist() for x in autocrop([pt.as_tensor(a), pt.as_tensor(b)], ['center'])]
    [[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]
    """
    cropping = _check_cropping(cropping, "autocrop")
    if cropping is None:
        return list(inputs)
    _check_same_ndim([x.ndim for x in inputs], "autocrop")
    index = [[] for _ in inputs]
    for axis in range(inputs[0].ndim):
        mode = cropping[axis] if axis < len(cropping) else None
        if mode is None:
            for idx in index:
                idx.append(slice(None))
            continue
        sizes = [x.shape[axis] for x in inputs]
        size = functools.reduce(pt.minimum, sizes)
        for idx, full in zip(index, sizes):
            start = {"lower": 0, "center": (full - size) // 2, "upper": full - size}[mode]
            idx.append(slice(start, start + size))
    return [x[tuple(idx)] for x, idx in zip(inputs, index)]


def autocrop_array_shapes(input_shapes, cropping):
    """Compute the shapes :func:`autocrop` produces, from plain shape tuples.

    Parameters
    ----------
    input_shapes : list of tuple
        ``None`` for unknown sizes.
    cropping : None or list
        As for :func:`autocrop`.

    Returns
    -------
    list of tuple
        Cropped axes get the smallest size (``None`` if any input's size is unknown).

    Examples
    --------
    >>> from rnnlab.nn.layers import autocrop_array_shapes
    >>> autocrop_array_shapes([(1, 5, 7), (1, 3, None)], [None, 'lower', 'upper'])
    [(1, 3, None), (1, 3, None)]
    """
    cropping = _check_cropping(cropping, "autocrop_array_shapes")
    if cropping is None:
        return [tuple(s) for s in input_shapes]
    _check_same_ndim([len(s) for s in input_shapes], "autocrop_array_shapes")
    by_axis = []
    for axis, sizes in enumerate(zip(*input_shapes)):
        mode = cropping[axis] if axis < len(cropping) else None
        if mode is None:
            by_axis.append(sizes)
        else:
            smallest = None if None in sizes else min(sizes)
            by_axis.append((smallest,) * len(sizes))
    return [tuple(shape) for shape in zip(*by_axis)]


def _check_incomings(incomings, where):
    if not isinstance(incomings, (list, tuple)) or not incomings:
        raise ValueError(f"{where}: incomings={incomings!r}; expected a non-empty list of layers "
                         "or shapes")


def _merge_sizes(sizes):
    """The first known size of an axis, or None."""
    return next((s for s in sizes if s is not None), None)


class ConcatLayer(MergeLayer):
    """Concatenate inputs along one axis.

    Parameters
    ----------
    incomings : list of Layer or tuple
        Inputs with equal sizes on every axis but ``axis`` (after cropping).
    axis : int
        The axis to concatenate along; negative values count from the end.
    cropping : None or list, optional
        Crop the inputs first; see :func:`autocrop`.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.MergeLayer` (``name``).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, ConcatLayer, get_output
    >>> a, b = InputLayer((None, 3)), InputLayer((None, 2))
    >>> ConcatLayer([a, b]).output_shape
    (None, 5)
    >>> y = get_output(ConcatLayer([a, b]), {a: np.zeros((1, 3)), b: np.ones((1, 2))})
    >>> y.eval().tolist()
    [[0.0, 0.0, 0.0, 1.0, 1.0]]
    """

    def __init__(self, incomings, axis=1, cropping=None, **kwargs):
        _check_incomings(incomings, "ConcatLayer")
        super().__init__(incomings, **kwargs)
        if not isinstance(axis, numbers.Integral):
            raise ValueError(f"ConcatLayer: axis={axis!r}; expected an int")
        self.axis = axis
        self.cropping = _check_cropping(cropping, "ConcatLayer")

    def get_output_shape_for(self, input_shapes):
        """Return the common shape with the sizes along ``axis`` summed.

        Parameters
        ----------
        input_shapes : list of tuple

        Returns
        -------
        tuple
            ``None`` along ``axis`` if any input's size there is unknown.

        Raises
        ------
        ValueError
            If the inputs differ in dimensions or in a known size off ``axis``.
        """
        shapes = autocrop_array_shapes(input_shapes, self.cropping)
        _check_same_ndim([len(s) for s in shapes], "ConcatLayer")
        ndim = len(shapes[0])
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"ConcatLayer: axis={self.axis} is not an axis of the "
                             f"{ndim}-dimensional inputs")
        axis = self.axis % ndim
        out = []
        for i, sizes in enumerate(zip(*shapes)):
            if i == axis:
                out.append(None if None in sizes else sum(sizes))
                continue
            known = {s for s in sizes if s is not None}
            if len(known) > 1:
                raise ValueError(f"ConcatLayer: input shapes {shapes} differ on axis {i}; they "
                                 f"may differ only on the concatenation axis {self.axis}")
            out.append(_merge_sizes(sizes))
        return tuple(out)

    def get_output_for(self, inputs, **kwargs):
        """Concatenate ``inputs``.

        Parameters
        ----------
        inputs : list of tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shaped as ``output_shape``.
        """
        return pt.concatenate(autocrop(inputs, self.cropping), axis=self.axis)


concat = ConcatLayer  # shortcut, as in Lasagne


class ElemwiseMergeLayer(MergeLayer):
    """Combine equally shaped inputs elementwise with a binary function.

    Parameters
    ----------
    incomings : list of Layer or tuple
        Inputs of the same shape (after cropping).
    merge_function : callable
        ``f(a, b)`` on two tensors, e.g. ``pytensor.tensor.mul``; applied left to right over the
        inputs.
    cropping : None or list, optional
        Crop the inputs first; see :func:`autocrop`.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.MergeLayer`.

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import InputLayer, ElemwiseMergeLayer
    >>> a, b = InputLayer((None, 3)), InputLayer((4, None))
    >>> ElemwiseMergeLayer([a, b], T.maximum).output_shape
    (4, 3)
    """

    def __init__(self, incomings, merge_function, cropping=None, **kwargs):
        _check_incomings(incomings, type(self).__name__)
        super().__init__(incomings, **kwargs)
        if not callable(merge_function):
            raise TypeError(f"{type(self).__name__}: merge_function={merge_function!r} is not "
                            "callable")
        self.merge_function = merge_function
        self.cropping = _check_cropping(cropping, type(self).__name__)

    def get_output_shape_for(self, input_shapes):
        """Return the common shape of the inputs.

        Parameters
        ----------
        input_shapes : list of tuple

        Returns
        -------
        tuple
            Per axis, the size known from any input, else ``None``.

        Raises
        ------
        ValueError
            If the inputs differ in dimensions or in a known size.
        """
        shapes = autocrop_array_shapes(input_shapes, self.cropping)
        _check_same_ndim([len(s) for s in shapes], type(self).__name__)
        for sizes in zip(*shapes):
            if len({s for s in sizes if s is not None}) > 1:
                raise ValueError(f"{type(self).__name__}: input shapes {shapes} do not match")
        return tuple(_merge_sizes(sizes) for sizes in zip(*shapes))

    def get_output_for(self, inputs, **kwargs):
        """Fold ``merge_function`` over ``inputs``.

        Parameters
        ----------
        inputs : list of tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shaped as ``output_shape``.
        """
        return functools.reduce(self.merge_function, autocrop(inputs, self.cropping))


class ElemwiseSumLayer(ElemwiseMergeLayer):
    """Sum equally shaped inputs, each scaled by a coefficient.

    Parameters
    ----------
    incomings : list of Layer or tuple
        Inputs of the same shape (after cropping).
    coeffs : number or list of numbers
        One coefficient for all inputs, or one per input.
    cropping : None or list, optional
        Crop the inputs first; see :func:`autocrop`.
    **kwargs
        Passed to :class:`~rnnlab.nn.layers.MergeLayer`.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, ElemwiseSumLayer, get_output
    >>> a, b = InputLayer((None, 2)), InputLayer((None, 2))
    >>> l_diff = ElemwiseSumLayer([a, b], coeffs=[1, -1])
    >>> get_output(l_diff, {a: np.ones((1, 2)), b: np.full((1, 2), 3.)}).eval().tolist()
    [[-2.0, -2.0]]
    """

    def __init__(self, incomings, coeffs=1, cropping=None, **kwargs):
        super().__init__(incomings, pt.add, cropping=cropping, **kwargs)
        if isinstance(coeffs, (list, tuple)):
            if len(coeffs) != len(incomings):
                raise ValueError(f"ElemwiseSumLayer: got {len(coeffs)} coeffs for "
                                 f"{len(incomings)} inputs")
            self.coeffs = list(coeffs)
        else:
            self.coeffs = [coeffs] * len(incomings)

    def get_output_for(self, inputs, **kwargs):
        """Return ``sum(c * x for c, x in zip(coeffs, inputs))``.

        Parameters
        ----------
        inputs : list of tensor
        **kwargs
            Ignored.

        Returns
        -------
        tensor
            Shaped as ``output_shape``.
        """
        scaled = [x if isinstance(c, numbers.Number) and c == 1 else c * x
                  for c, x in zip(self.coeffs, autocrop(inputs, self.cropping))]
        return functools.reduce(pt.add, scaled)
