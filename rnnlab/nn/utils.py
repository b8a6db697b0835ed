"""Small helpers shared by the layer library (Lasagne's ``lasagne.utils``)."""

import numbers

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.compile.sharedvalue import SharedVariable

__all__ = ["floatX", "shared_empty", "as_theano_expression", "collect_shared_vars", "one_hot",
           "unique", "compute_norms", "create_param"]


def floatX(arr):
    """Convert an array or number to PyTensor's ``floatX`` dtype.

    Parameters
    ----------
    arr : array_like
        Any shape.

    Returns
    -------
    numpy.ndarray
        Same shape, dtype ``pytensor.config.floatX``.

    Examples
    --------
    >>> floatX([1, 2]).dtype == pytensor.config.floatX
    True
    """
    return np.asarray(arr, dtype=pytensor.config.floatX)


def shared_empty(dim=2, dtype=None):
    """Create an empty shared variable with ``dim`` dimensions.

    Parameters
    ----------
    dim : int
        Number of dimensions; the value has shape ``(0,) * dim``.
    dtype : str, optional
        Defaults to ``floatX``.

    Returns
    -------
    SharedVariable

    Examples
    --------
    >>> shared_empty(3).get_value().shape
    (0, 0, 0)
    """
    dtype = dtype or pytensor.config.floatX
    return pytensor.shared(np.zeros((0,) * dim, dtype=dtype))


def as_theano_expression(input):
    """Wrap a number or array as a PyTensor constant; pass symbolic variables through.

    Parameters
    ----------
    input : Variable, number or array_like

    Returns
    -------
    Variable
        The same shape as ``input``.

    Raises
    ------
    TypeError
        If ``input`` cannot be made a constant.

    Examples
    --------
    >>> as_theano_expression(np.ones((2, 3))).type.shape
    (2, 3)
    """
    if isinstance(input, Variable):
        return input
    try:
        return pt.constant(input)
    except Exception as err:
        raise TypeError(f"input of type {type(input).__name__} is not a PyTensor expression and "
                        f"cannot be wrapped as a constant ({err})") from None


def collect_shared_vars(expressions):
    """Return the shared variables an expression (or a list of them) depends on, in graph order.

    Parameters
    ----------
    expressions : Variable or list of Variable

    Returns
    -------
    list of SharedVariable
        Each variable once.

    Examples
    --------
    >>> w = pytensor.shared(np.ones(2), name='w')
    >>> collect_shared_vars(2 * w + 1)
    [w]
    """
    if isinstance(expressions, Variable):
        expressions = [expressions]
    # Depth-first, left to right, so parameters come out in the order they were given.
    found, seen, stack = [], set(), list(reversed(expressions))
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if isinstance(var, SharedVariable):
            found.append(var)
        if var.owner is not None:
            stack.extend(reversed(var.owner.inputs))
    return found


def one_hot(x, m=None):
    """One-hot encode integer ids.

    Parameters
    ----------
    x : integer tensor, any shape ``s``
    m : int, optional
        Number of classes; defaults to ``max(x) + 1``.

    Returns
    -------
    tensor
        Shape ``s + (m,)``, dtype floatX.

    Examples
    --------
    >>> one_hot(np.array([0, 2]), 3).eval().tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    x = as_theano_expression(x)
    if m is None:
        m = pt.cast(pt.max(x) + 1, "int32")
    return pt.eye(m, dtype=pytensor.config.floatX)[pt.cast(x, "int32")]


def unique(items):
    """Remove duplicates from a sequence, keeping the first occurrence of each (order kept).

    Parameters
    ----------
    items : iterable of hashable

    Returns
    -------
    list

    Examples
    --------
    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def compute_norms(array, norm_axes=None):
    """Compute the L2 norms of a weight array's slices (numpy; for inspecting constraints).

    Parameters
    ----------
    array : numpy.ndarray
        1 to 5 dimensions.
    norm_axes : int or tuple of int, optional
        Axes to sum over.  Defaults as in :func:`rnnlab.nn.updates.norm_constraint`: axis 0 for
        vectors and matrices (one norm per output unit), all but the first axis for 3–5 dims.

    Returns
    -------
    numpy.ndarray
        ``array`` reduced over ``norm_axes``.

    Examples
    --------
    >>> compute_norms(np.array([[3., 0.], [4., 1.]])).tolist()
    [5.0, 1.0]
    """
    array = np.asarray(array)
    if norm_axes is None:
        if array.ndim in (1, 2):
            norm_axes = (0,)
        elif array.ndim in (3, 4, 5):
            norm_axes = tuple(range(1, array.ndim))
        else:
            raise ValueError(f"compute_norms: cannot infer norm_axes for a {array.ndim}-d array; "
                             "pass norm_axes")
    return np.sqrt(np.sum(array ** 2, axis=norm_axes))


def _check_shape(shape, name):
    shape = tuple(shape)
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in shape):
        raise ValueError(f"cannot create parameter {name or '(unnamed)'}: shape {shape} must "
                         "consist of positive integers")
    return shape


def create_param(spec, shape, name=None):
    """Create (or adopt) a parameter of a given shape.

    Parameters
    ----------
    spec : numpy.ndarray, SharedVariable, PyTensor expression or callable
        An array is wrapped in a new shared variable; a shared variable or expression is used as
        it is (its number of dimensions must match); a callable (such as an initializer from
        :mod:`rnnlab.nn.init`) is called with ``shape`` and its result handled as above.
    shape : tuple of int
        The expected shape; all entries positive.
    name : str, optional
        Name given to a newly created shared variable (or to an unnamed given one).

    Returns
    -------
    SharedVariable or Variable
        Dimensions of size 1 are broadcastable.

    Raises
    ------
    ValueError
        On a shape or dimension mismatch.

    Examples
    --------
    >>> p = create_param(np.zeros((3, 1)), (3, 1), name='W')
    >>> p.name, p.get_value().shape, p.type.broadcastable
    ('W', (3, 1), (False, True))
    """
    shape = _check_shape(shape, name)
    if callable(spec) and not isinstance(spec, Variable):
        spec = spec(shape)
        if not isinstance(spec, (Variable, np.ndarray)):
            spec = np.asarray(spec)
    if isinstance(spec, Variable):
        if spec.ndim != len(shape):
            raise ValueError(f"parameter {name or spec.name}: given a variable with {spec.ndim} "
                             f"dimensions, expected {len(shape)} (shape {shape})")
        if isinstance(spec, SharedVariable) and spec.get_value(borrow=True).shape != shape:
            raise ValueError(f"parameter {name or spec.name}: given a shared variable of shape "
                             f"{spec.get_value(borrow=True).shape}, expected {shape}")
        if name is not None and spec.name is None:
            spec.name = name
        return spec
    if not isinstance(spec, np.ndarray):
        raise TypeError(f"parameter {name}: cannot initialize from {type(spec).__name__}; expected "
                        "a numpy array, a shared variable, an expression or a callable")
    if spec.shape != shape:
        raise ValueError(f"parameter {name}: given an array of shape {spec.shape}, expected {shape}")
    static = tuple(1 if s == 1 else None for s in shape)
    return pytensor.shared(spec, name=name, shape=static)
