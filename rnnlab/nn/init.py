"""Parameter initializers (Lasagne's ``lasagne.init``).

An initializer is a callable object: ``initializer(shape)`` returns a numpy array of that shape and
dtype ``floatX``.  Layers accept one wherever a parameter is expected (``W=init.GlorotUniform()``).
Random initializers draw from :func:`rnnlab.nn.random.get_rng`, so seeding that generator makes
initialization reproducible.

Fan-in and fan-out follow Lasagne: a weight of shape ``(n_in, n_out)`` (dense layers) has
``fan_in = n_in``; a convolution filter bank of shape ``(n_out, n_in, *receptive_field)`` has
``fan_in = n_in * prod(receptive_field)`` (for :class:`He`) and, for :class:`Glorot`,
``(fan_in + fan_out) = (shape[0] + shape[1]) * prod(shape[2:])``.
"""

import numbers

import numpy as np

from .random import get_rng
from .utils import floatX

__all__ = ["Initializer", "Constant", "Normal", "Uniform", "Glorot", "GlorotNormal",
           "GlorotUniform", "He", "HeNormal", "HeUniform", "Orthogonal", "Sparse"]


def _as_shape(shape):
    """Return ``shape`` as a tuple of non-negative ints (an int is a 1-D shape)."""
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape {shape!r} is not a tuple of ints") from None
    if not all(isinstance(s, numbers.Integral) and s >= 0 for s in shape):
        raise ValueError(f"shape {shape!r} is not a tuple of non-negative ints")
    return tuple(int(s) for s in shape)


def _real(value):
    """``value`` as a float if it is a real number or a 0-d real array (``floatX(0.1)``), else
    None."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        value = value[()]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return None


def _check_gain(gain):
    """Return ``gain`` as a float; ``'relu'`` means ``sqrt(2)``."""
    if isinstance(gain, str):
        if gain != "relu":
            raise ValueError(f"gain {gain!r} is not a number or 'relu'")
        return float(np.sqrt(2))
    if _real(gain) is None:
        raise TypeError(f"gain {gain!r} is not a number or 'relu'")
    return _real(gain)


def _check_non_negative(name, value):
    if _real(value) is None or _real(value) < 0:
        raise ValueError(f"{name} {value!r} is not a non-negative number")
    return _real(value)


class Initializer:
    """Base class of parameter initializers.

    Subclasses implement :meth:`sample`; calling the object calls :meth:`sample`.

    Examples
    --------
    >>> class Ones(Initializer):
    ...     def sample(self, shape):
    ...         return floatX(np.ones(shape))
    >>> float(Ones()((2, 2)).sum())
    4.0
    """

    def __call__(self, shape):
        """Return ``self.sample(shape)``."""
        return self.sample(shape)

    def sample(self, shape):
        """Return an array of the given shape.

        Parameters
        ----------
        shape : tuple of int

        Returns
        -------
        numpy.ndarray
            Shape ``shape``, dtype ``floatX``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement sample(shape)")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Fill with a constant value.

    Parameters
    ----------
    val : float or array_like
        The value of every entry, or an array that broadcasts to the shape asked for (as in
        Lasagne, the sample is ``ones(shape) * val``).

    Examples
    --------
    >>> Constant(0.5)((2, 3)).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    >>> Constant(np.array([1.0, 2.0, 3.0]))((2, 3)).tolist()   # one value per column
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """

    def __init__(self, val=0.0):
        if not isinstance(val, (numbers.Number, np.ndarray)) or (
                isinstance(val, np.ndarray) and val.dtype.kind not in "biufc"):
            raise TypeError(f"val {val!r} is not a number or a numeric array")
        self.val = val

    def sample(self, shape):
        return floatX(np.ones(_as_shape(shape)) * self.val)


class Normal(Initializer):
    """Sample from a normal distribution ``N(mean, std**2)``.

    Parameters
    ----------
    std : float
        Standard deviation (non-negative).
    mean : float
        Mean.

    Examples
    --------
    >>> w = Normal(std=0.1)((300, 200))
    >>> w.shape, w.dtype == floatX(0).dtype, bool(abs(w.std() - 0.1) < 0.005)
    ((300, 200), True, True)
    """

    def __init__(self, std=0.01, mean=0.0):
        self.std = _check_non_negative("std", std)
        self.mean = mean

    def sample(self, shape):
        return floatX(get_rng().normal(self.mean, self.std, size=_as_shape(shape)))


class Uniform(Initializer):
    """Sample from a uniform distribution.

    Parameters
    ----------
    range : float or tuple of 2 floats
        A number ``a`` means ``U(-a, a)``; a pair ``(lo, hi)`` means ``U(lo, hi)``.  Ignored if
        ``std`` is given.
    std : float, optional
        If given, sample ``U(mean - sqrt(3) * std, mean + sqrt(3) * std)``, the uniform
        distribution with that standard deviation and mean.
    mean : float
        Mean, used only with ``std``.

    Examples
    --------
    >>> w = Uniform((2, 3))((100, 100))
    >>> bool(w.min() >= 2 and w.max() < 3)
    True
    >>> w = Uniform(std=0.5, mean=1.0)((300, 300))
    >>> bool(abs(w.std() - 0.5) < 0.01 and abs(w.mean() - 1.0) < 0.01)
    True
    """

    def __init__(self, range=0.01, std=None, mean=0.0):
        if std is not None:
            std = _check_non_negative("std", std)
            low, high = mean - np.sqrt(3) * std, mean + np.sqrt(3) * std
        elif _real(range) is not None:
            low, high = -_real(range), _real(range)
        else:
            try:
                low, high = range
            except (TypeError, ValueError):
                raise ValueError(f"range {range!r} is not a number or a (low, high) pair") from None
        self.range = (float(low), float(high))

    def sample(self, shape):
        low, high = self.range
        return floatX(get_rng().uniform(low=low, high=high, size=_as_shape(shape)))


def _receptive_field(shape, c01b, who):
    """Return ``(n_in_axis, n_out_axis, receptive_field_size)`` of a weight shape."""
    if c01b:
        if len(shape) != 4:
            raise RuntimeError(f"{who}: shape {shape} has {len(shape)} dimensions; with c01b=True "
                             "only 4-D shapes (channels, rows, cols, batch) are accepted")
        return shape[0], shape[3], shape[1] * shape[2]
    if len(shape) < 2:
        raise RuntimeError(f"{who}: shape {shape} has {len(shape)} dimensions; expected at least 2")
    return shape[0], shape[1], int(np.prod(shape[2:]))


class _FanScaled(Initializer):
    """Shared by :class:`Glorot` and :class:`He`: sample ``initializer(std=self._std(shape))``."""

    def __init__(self, initializer, gain=1.0, c01b=False):
        if not callable(initializer):
            raise TypeError(f"initializer {initializer!r} is not an initializer class")
        self.initializer = initializer
        self.gain = _check_gain(gain)
        self.c01b = bool(c01b)

    def _std(self, shape):
        raise NotImplementedError

    def sample(self, shape):
        shape = _as_shape(shape)
        return self.initializer(std=self._std(shape)).sample(shape)


class Glorot(_FanScaled):
    """Glorot (Xavier) initialization with a given distribution.

    The samples have standard deviation ``gain * sqrt(2 / ((n1 + n2) * receptive_field))``:
    for a dense weight of shape ``(n_in, n_out)`` that is ``gain * sqrt(2 / (n_in + n_out))``.

    Parameters
    ----------
    initializer : class
        An initializer class accepting ``std`` (:class:`Normal` or :class:`Uniform`).
    gain : float or 'relu'
        Scale factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        For 4-D filter banks in ``(channels, rows, cols, batch)`` layout: ``n1 = shape[0]``,
        ``n2 = shape[3]``, receptive field ``shape[1] * shape[2]``.  Otherwise ``n1, n2 =
        shape[:2]`` and the receptive field is ``prod(shape[2:])``.

    Examples
    --------
    >>> w = Glorot(Normal)((400, 600))
    >>> bool(abs(w.std() / np.sqrt(2 / 1000) - 1) < 0.02)
    True
    """

    def _std(self, shape):
        n1, n2, field = _receptive_field(shape, self.c01b, type(self).__name__)
        return self.gain * np.sqrt(2.0 / ((n1 + n2) * field))


class GlorotNormal(Glorot):
    """Glorot initialization from a normal distribution: std ``gain * sqrt(2 / (n_in + n_out))``.

    Parameters
    ----------
    gain : float or 'relu'
    c01b : bool
        See :class:`Glorot`.

    Examples
    --------
    >>> GlorotNormal()((5, 4)).shape
    (5, 4)
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Normal, gain, c01b)


class GlorotUniform(Glorot):
    """Glorot initialization from ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Parameters
    ----------
    gain : float or 'relu'
    c01b : bool
        See :class:`Glorot`.

    Examples
    --------
    >>> w = GlorotUniform()((10, 14))
    >>> bool(np.abs(w).max() <= np.sqrt(6 / 24))
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Uniform, gain, c01b)


class He(_FanScaled):
    """He initialization with a given distribution: std ``gain * sqrt(1 / fan_in)``.

    ``fan_in`` is ``shape[0]`` for a 2-D (dense) weight, ``prod(shape[1:])`` for a filter bank of
    shape ``(n_out, n_in, *receptive_field)``, and ``prod(shape[:3])`` with ``c01b=True``.

    Parameters
    ----------
    initializer : class
        An initializer class accepting ``std`` (:class:`Normal` or :class:`Uniform`).
    gain : float or 'relu'
        Scale factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        4-D filter banks in ``(channels, rows, cols, batch)`` layout.

    Examples
    --------
    >>> w = He(Normal, gain='relu')((500, 300))
    >>> bool(abs(w.std() / np.sqrt(2 / 500) - 1) < 0.02)
    True
    """

    def _std(self, shape):
        who = type(self).__name__
        if self.c01b:
            if len(shape) != 4:
                raise RuntimeError(f"{who}: shape {shape} has {len(shape)} dimensions; with "
                                 "c01b=True only 4-D shapes are accepted")
            fan_in = int(np.prod(shape[:3]))
        elif len(shape) == 2:
            fan_in = shape[0]
        elif len(shape) > 2:
            fan_in = int(np.prod(shape[1:]))
        else:
            raise RuntimeError(f"{who}: shape {shape} has {len(shape)} dimensions; expected at "
                             "least 2")
        return self.gain * np.sqrt(1.0 / fan_in)


class HeNormal(He):
    """He initialization from a normal distribution, std ``gain * sqrt(1 / fan_in)``.

    Parameters
    ----------
    gain : float or 'relu'
    c01b : bool
        See :class:`He`.

    Examples
    --------
    >>> HeNormal('relu')((3, 2)).dtype == floatX(0).dtype
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Normal, gain, c01b)


class HeUniform(He):
    """He initialization from ``U(-a, a)``, ``a = gain * sqrt(3 / fan_in)``.

    Parameters
    ----------
    gain : float or 'relu'
    c01b : bool
        See :class:`He`.

    Examples
    --------
    >>> bool(np.abs(HeUniform()((12, 5))).max() <= 0.5)
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Uniform, gain, c01b)


class Orthogonal(Initializer):
    """Random orthogonal matrix (Saxe et al., 2013), times ``gain``.

    For shapes with more than two dimensions the trailing dimensions are flattened: the result,
    reshaped to ``(shape[0], prod(shape[1:]))``, has orthonormal rows or columns (whichever are
    fewer), scaled by ``gain``.

    Parameters
    ----------
    gain : float or 'relu'
        Scale factor; ``'relu'`` means ``sqrt(2)``.

    Examples
    --------
    >>> q = Orthogonal()((4, 4))
    >>> np.allclose(q @ q.T, np.eye(4), atol=1e-5)
    True
    """

    def __init__(self, gain=1.0):
        self.gain = _check_gain(gain)

    def sample(self, shape):
        shape = _as_shape(shape)
        if len(shape) < 2:
            raise RuntimeError(f"Orthogonal: shape {shape} has {len(shape)} dimensions; expected "
                             "at least 2")
        flat_shape = (shape[0], int(np.prod(shape[1:])))
        a = get_rng().normal(0.0, 1.0, size=flat_shape)
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == flat_shape else vt
        return floatX(self.gain * q.reshape(shape))


class Sparse(Initializer):
    """Sparse 2-D weights: in each column, ``int(sparsity * n_rows)`` entries are ``N(0, std**2)``.

    The other entries are zero; which rows are non-zero is chosen independently per column.

    Parameters
    ----------
    sparsity : float
        Fraction of non-zero entries per column, in ``[0, 1]``.
    std : float
        Standard deviation of the non-zero entries.

    Examples
    --------
    >>> w = Sparse(sparsity=0.25)((8, 3))
    >>> (w != 0).sum(axis=0).tolist()
    [2, 2, 2]
    """

    def __init__(self, sparsity=0.1, std=0.01):
        if _real(sparsity) is None or not 0 <= _real(sparsity) <= 1:
            raise ValueError(f"sparsity {sparsity!r} is not a number in [0, 1]")
        self.sparsity = _real(sparsity)
        self.std = _check_non_negative("std", std)

    def sample(self, shape):
        shape = _as_shape(shape)
        if len(shape) != 2:
            raise RuntimeError(f"Sparse: shape {shape} has {len(shape)} dimensions; expected 2")
        n_inputs, n_outputs = shape
        size = int(self.sparsity * n_inputs)
        w = np.zeros(shape, dtype=np.float64)
        rng = get_rng()
        for k in range(n_outputs):
            rows = rng.permutation(n_inputs)[:size]
            w[rows, k] = rng.normal(0.0, self.std, size=size)
        return floatX(w)
