"""Small helpers shared by the layer library (Lasagne's ``lasagne.utils``)."""

import inspect
import numbers

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.compile.sharedvalue import SharedVariable

__all__ = ["floatX", "shared_empty", "as_theano_expression", "collect_shared_vars", "one_hot",
           "unique", "as_tuple", "int_types", "inspect_kwargs", "compute_norms", "create_param",
           "unroll_scan"]

#: The types that count as integers (Python's and numpy's), for ``isinstance`` checks.
int_types = (numbers.Integral, np.integer)


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
        Number of dimensions; the value is zeros of shape ``(1,) * dim``, as in Lasagne.
    dtype : str, optional
        Defaults to ``floatX``.

    Returns
    -------
    SharedVariable

    Examples
    --------
    >>> shared_empty(3).get_value().shape
    (1, 1, 1)
    """
    dtype = dtype or pytensor.config.floatX
    return pytensor.shared(np.zeros((1,) * dim, dtype=dtype))


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


def unique(l):  # noqa: E741  (Lasagne's parameter name)
    """Remove duplicates from a sequence, keeping the first occurrence of each (order kept).

    Parameters
    ----------
    l : iterable of hashable

    Returns
    -------
    list

    Examples
    --------
    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen, out = set(), []
    for item in l:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def as_tuple(x, N, t=None):
    """Coerce a value to a tuple of length ``N`` (and, optionally, of element type ``t``).

    Parameters
    ----------
    x : value or iterable
        An iterable becomes ``tuple(x)``; anything else ``(x,) * N``.
    N : int
        The length required.
    t : type or tuple of types, optional
        The type every element must have.

    Returns
    -------
    tuple
        Of length ``N``.

    Raises
    ------
    TypeError
        If ``t`` is given and an element is not of that type.
    ValueError
        If ``x`` is iterable but does not have exactly ``N`` elements.

    Examples
    --------
    >>> as_tuple(3, 2), as_tuple([1, 2], 2)
    ((3, 3), (1, 2))
    >>> as_tuple((1, 2, 3), 2)
    Traceback (most recent call last):
    ...
    ValueError: expected a single value or an iterable with length 2, got (1, 2, 3) instead
    """
    try:
        values = tuple(x)
    except TypeError:
        values = (x,) * N
    if t is not None and not all(isinstance(v, t) for v in values):
        name = t.__name__ if isinstance(t, type) else " or ".join(c.__name__ for c in t)
        raise TypeError(f"expected a single value or an iterable of {name}, got {x!r} instead")
    if len(values) != N:
        raise ValueError(f"expected a single value or an iterable with length {N}, got {x!r} "
                         "instead")
    return values


def inspect_kwargs(func):
    """The names of a callable's arguments that have default values.

    Parameters
    ----------
    func : callable

    Returns
    -------
    list of str
        In the order of the signature (keyword-only ones included).

    Examples
    --------
    >>> def f(x, y=1, *args, z=2, **kwargs):
    ...     pass
    >>> inspect_kwargs(f)
    ['y', 'z']
    """
    return [name for name, param in inspect.signature(func).parameters.items()
            if param.default is not inspect.Parameter.empty]


def compute_norms(array, norm_axes=None):
    """Compute the L2 norms of a weight array's slices, numerically or symbolically.

    Parameters
    ----------
    array : numpy.ndarray or PyTensor variable
        1 to 5 dimensions (any number with ``norm_axes``).
    norm_axes : sequence of int, optional
        Axes to sum over.  Defaults as in Lasagne: none for a vector (the norms are the
        absolute values, e.g. of a bias), axis 0 for a matrix (one norm per output unit), all
        but the first axis for 3 to 5 dimensions (one per filter).

    Returns
    -------
    numpy.ndarray or PyTensor variable
        ``array`` reduced over ``norm_axes``; the same kind as ``array``.

    Raises
    ------
    ValueError
        If ``norm_axes`` is not given and ``array`` has 0 or more than 5 dimensions.
    RuntimeError
        If ``array`` is neither a numpy array nor a PyTensor variable (as in Lasagne).

    Examples
    --------
    >>> compute_norms(np.array([[3., 0.], [4., 1.]])).tolist()
    [5.0, 1.0]
    >>> compute_norms(np.array([-2., 3.])).tolist()              # a vector: absolute values
    [2.0, 3.0]
    >>> compute_norms(pytensor.shared(np.array([[3., 0.], [4., 1.]]))).eval().tolist()
    [5.0, 1.0]
    """
    symbolic = isinstance(array, Variable)
    if not symbolic and not isinstance(array, np.ndarray):
        raise RuntimeError(f"Unsupported type {type(array).__name__}. Must be a PyTensor variable "
                           "or numpy array")
    if norm_axes is not None:
        sum_over = tuple(norm_axes) if not isinstance(norm_axes, int_types) else (norm_axes,)
    elif array.ndim == 1:
        sum_over = ()
    elif array.ndim == 2:
        sum_over = (0,)
    elif array.ndim in (3, 4, 5):
        sum_over = tuple(range(1, array.ndim))
    else:
        raise ValueError(f"Unsupported tensor dimensionality {array.ndim}. Must specify "
                         "`norm_axes`")
    math = pt if symbolic else np
    if not sum_over:
        return math.abs(array)
    return math.sqrt(math.sum(array ** 2, axis=sum_over))


def _check_shape(shape, name):
    shape = tuple(shape)
    if not all(isinstance(s, int_types) and s > 0 for s in shape):
        raise ValueError(f"Cannot create param with a non-positive shape dimension. Tried to "
                         f"create param with shape={shape!r}, name={name!r}")
    return tuple(int(s) for s in shape)


def create_param(spec, shape, name=None):
    """Create (or adopt) a parameter of a given shape, with Lasagne's rules and exceptions.

    Parameters
    ----------
    spec : numpy.ndarray, number, SharedVariable, PyTensor expression or callable
        An array (or a number, for shape ``()``) is wrapped in a new shared variable; a shared
        variable or expression is used as it is (its number of dimensions must match; its
        current value's shape is not checked, since it may be set later, as Lasagne allows);
        a callable (such as an initializer from :mod:`rnnlab.nn.init`) is called with
        ``shape`` and must return an array or an expression, handled as above.
    shape : tuple of int
        The expected shape; all entries positive.
    name : str, optional
        Name given to a newly created shared variable, or to a given variable without a name.

    Returns
    -------
    SharedVariable or Variable
        Dimensions of size 1 are broadcastable.

    Raises
    ------
    ValueError
        On a non-positive size, an array of another shape or a variable of another number of
        dimensions.
    TypeError
        If ``spec`` (or what the callable returned) is none of the above.

    Examples
    --------
    >>> p = create_param(np.zeros((3, 1)), (3, 1), name='W')
    >>> p.name, p.get_value().shape, p.type.broadcastable
    ('W', (3, 1), (False, True))
    >>> float(create_param(0.5, (), name='scale').get_value())
    0.5
    >>> create_param([1.0, 2.0], (2,))
    Traceback (most recent call last):
    ...
    TypeError: cannot initialize parameter None: the provided spec is not a numpy array, ...
    """
    shape = _check_shape(shape, name)
    what = "the provided {}"
    if callable(spec) and not isinstance(spec, Variable):
        spec = spec(shape)
        what = "the {} returned by the provided callable"
    prefix = f"cannot initialize parameter {name}: "
    if isinstance(spec, numbers.Number) or (isinstance(spec, np.generic)
                                            and spec.dtype.kind in "biufc"):
        spec = np.asarray(spec)
    if isinstance(spec, np.ndarray):
        if spec.shape != shape:
            raise ValueError(f"{prefix}{what.format('numpy array')} has shape {spec.shape}, "
                             f"should be {shape}")
        static = tuple(1 if s == 1 else None for s in shape)
        return pytensor.shared(spec, name=name, shape=static)
    if isinstance(spec, Variable):
        if spec.ndim != len(shape):
            raise ValueError(f"{prefix}{what.format('PyTensor variable')} has {spec.ndim} "
                             f"dimensions, should be {len(shape)}")
        if not spec.name:
            spec.name = name
        return spec
    if "callable" in what:
        raise TypeError(f"{prefix}{what.format('value')} is not a numpy array or a PyTensor "
                        "expression")
    raise TypeError(f"{prefix}{what.format('spec')} is not a numpy array, a PyTensor expression, "
                    "or a callable")


def unroll_scan(fn, sequences, outputs_info, non_sequences, n_steps, go_backwards=False):
    """Unroll a loop into ``n_steps`` copies of its step, as ``pytensor.scan`` would run it.

    The arguments are ``scan``'s; every output is carried to the next step (no
    ``truncate_gradient``).  A graph without a loop compiles to straight-line code, faster for
    short sequences of known length.

    Parameters
    ----------
    fn : callable
        ``fn(*sequence_slices, *previous_outputs, *non_sequences)`` returns one output or a
        list/tuple of them.
    sequences : TensorVariable or list of TensorVariable
        Iterated over their first axis; each at least ``n_steps`` long.
    outputs_info : list of TensorVariable
        The initial value of each output.
    non_sequences : list of TensorVariable
        Passed unchanged to every step.
    n_steps : int
        The number of steps (a Python int).
    go_backwards : bool
        Run from the last step to the first; the outputs are stacked in the order computed.

    Returns
    -------
    list of TensorVariable
        One per output, each ``(n_steps, *output_shape)``.

    Examples
    --------
    >>> x = pytensor.tensor.vector('x')
    >>> [total] = unroll_scan(lambda xt, acc: acc + xt, [x], [pytensor.tensor.constant(0.)],
    ...                       [], n_steps=3)
    >>> total.eval({x: np.array([1., 2., 3.], x.dtype)}).tolist()       # running sums
    [1.0, 3.0, 6.0]
    """
    if not isinstance(sequences, (list, tuple)):
        sequences = [sequences]
    steps = range(n_steps - 1, -1, -1) if go_backwards else range(n_steps)
    previous, outputs = list(outputs_info), []
    for step in steps:
        result = fn(*[s[step] for s in sequences], *previous, *non_sequences)
        previous = list(result) if isinstance(result, (list, tuple)) else [result]
        outputs.append(previous)
    return [pt.stack([out[index] for out in outputs]) for index in range(len(outputs[0]))]
