"""Preprocessing fitted on training rows only: log / differencing transforms and a scaler.

A :class:`Preprocessor` applies, in order, the transforms (to the target columns) and then a
per-column scaler ``(x - center) / scale``.  Transforms are causal: row ``t`` of the output uses raw
rows ``t`` and earlier only (``log`` is pointwise, ``diff:k`` is ``x[t] - x[t-k]``), so the whole
series can be transformed at once without letting the future into the past.  The scaler's
statistics come from :meth:`Preprocessor.fit`, which callers give the training rows alone.

Differencing drops the first rows: ``transform`` returns ``len(x) - offset`` rows, where
``offset`` is the sum of the lags, and output row ``i`` belongs to input row ``i + offset``.
Inverting a differenced forecast needs the raw values just before it (its known history): see
:meth:`Preprocessor.inverse_transform`.
"""

import numpy as np

from rnnlab.errors import DataError

__all__ = ["Preprocessor", "SCALERS"]

#: Scaler names: zero mean / unit variance, [0, 1] range, or identity.
SCALERS = ("standard", "minmax", "none")


def _parse_transform(spec):
    """'log' -> ('log', 0); 'diff' -> ('diff', 1); 'diff:12' -> ('diff', 12)."""
    if spec == "log":
        return ("log", 0)
    if isinstance(spec, str) and spec.partition(":")[0] == "diff":
        lag = spec.partition(":")[2] or "1"
        if lag.isdigit() and int(lag) >= 1:
            return ("diff", int(lag))
    raise ValueError(f"transforms: expected 'log', 'diff' or 'diff:<lag>' (lag >= 1), got {spec!r}")


def _apply(values, steps, n_transformed):
    """Apply transform steps along axis -2 to the first ``n_transformed`` columns (a new array)."""
    z = np.array(values, dtype=np.float64)
    k = n_transformed
    for kind, lag in steps:
        if kind == "log":
            bad = z[..., :k] <= 0
            if bad.any():
                index = tuple(int(i) for i in np.argwhere(bad)[0])
                raise DataError(f"the log transform needs positive values; row {index[-2] + 1}, "
                                f"column {index[-1] + 1} is {float(z[..., :k][index])!r}")
            z[..., :k] = np.log(z[..., :k])
        else:
            shorter = z[..., lag:, :].copy()
            shorter[..., :k] -= z[..., :-lag, :k]
            z = shorter
    return z


#: The largest magnitude a series value may have: squared errors (RMSE, the scalers' variance)
#: must stay finite in float64.
MAX_MAGNITUDE = 1e150


def _check_magnitude(rows, what):
    peak = float(np.max(np.abs(rows))) if rows.size else 0.0
    if peak > MAX_MAGNITUDE:
        raise DataError(f"the {what} reach {peak:.3g}; expected magnitudes up to "
                        f"{MAX_MAGNITUDE:g}, whose squares (scaling, RMSE) stay finite in "
                        f"float64: rescale the data")


class Preprocessor:
    """Transforms (log, differencing) on the targets plus a per-column scaler, fitted on train rows.

    Parameters
    ----------
    transforms : sequence of str
        Applied in order to the target columns: ``'log'``, ``'diff'`` (lag 1) or ``'diff:<lag>'``
        (e.g. ``'diff:12'`` for a monthly seasonal difference).
    scaler : {'standard', 'minmax', 'none'}
        ``'standard'`` subtracts the training mean and divides by the training standard deviation;
        ``'minmax'`` maps the training range to [0, 1]; a constant column gets scale 1.
    n_targets : int, optional
        Transforms apply to the first ``n_targets`` columns (the targets; covariates only get
        scaled).  Default: every column.

    Attributes
    ----------
    center, scale : numpy.ndarray, shape (features,)
        Scaler statistics, set by :meth:`fit`.
    offset : int
        Rows consumed by differencing (sum of the lags).

    Examples
    --------
    >>> train = np.array([[1.0], [2.0], [4.0], [8.0]])
    >>> pre = Preprocessor(["log", "diff"], scaler="none").fit(train)
    >>> pre.transform(train).ravel() / np.log(2)
    array([1., 1., 1.])
    >>> pre.inverse_transform(pre.transform(train), history=train[:1]).ravel()
    array([2., 4., 8.])
    """

    def __init__(self, transforms=(), scaler="standard", n_targets=None):
        if isinstance(transforms, str):
            transforms = [transforms]
        self.steps = [_parse_transform(t) for t in transforms]
        if scaler not in SCALERS:
            raise ValueError(f"scaler: expected one of {SCALERS}, got {scaler!r}")
        if n_targets is not None and (not isinstance(n_targets, int) or n_targets < 1):
            raise ValueError(f"n_targets: expected a positive int or None, got {n_targets!r}")
        self.scaler = scaler
        self.n_targets = n_targets
        self.center = None
        self.scale = None

    @property
    def transforms(self):
        """The transform names, e.g. ``['log', 'diff:12']``."""
        return [kind if kind == "log" else f"diff:{lag}" for kind, lag in self.steps]

    @property
    def offset(self):
        """Rows consumed at the start by differencing (sum of the lags)."""
        return sum(lag for _, lag in self.steps)

    @property
    def fitted(self):
        """Whether :meth:`fit` (or :meth:`from_dict`) has set the scaler statistics."""
        return self.center is not None

    def _transformed_columns(self, n_columns):
        return n_columns if self.n_targets is None else min(self.n_targets, n_columns)

    def fit(self, train):
        """Fit the scaler on the transformed training rows.

        Parameters
        ----------
        train : array_like, shape (time, features)
            Raw training rows only; ``time`` must exceed :attr:`offset`.

        Returns
        -------
        Preprocessor
            ``self``.

        Examples
        --------
        >>> Preprocessor(scaler="minmax").fit([[2.0, 0.0], [4.0, 1.0]]).scale
        array([2., 1.])
        """
        train = _as_rows("train", train)
        if len(train) <= self.offset:
            raise DataError(f"fit needs more than {self.offset} training rows (the differencing "
                            f"lags), got {len(train)}")
        z = _apply(train, self.steps, self._transformed_columns(train.shape[1]))
        _check_magnitude(train, "training rows")
        if self.scaler == "standard":
            center, scale = z.mean(axis=0), z.std(axis=0)
        elif self.scaler == "minmax":
            center, scale = z.min(axis=0), z.max(axis=0) - z.min(axis=0)
        else:
            center, scale = np.zeros(z.shape[1]), np.ones(z.shape[1])
        self.center = center
        self.scale = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, values):
        """Transform raw rows: the transforms, then the scaler.

        Parameters
        ----------
        values : array_like, shape (time, features)

        Returns
        -------
        numpy.ndarray, shape (time - offset, features), float64
            Row ``i`` belongs to input row ``i + offset``.

        Examples
        --------
        >>> pre = Preprocessor(["diff"]).fit([[0.0], [1.0], [3.0]])
        >>> pre.transform([[0.0], [1.0], [3.0], [6.0]]).ravel()
        array([-1.,  1.,  3.])
        """
        values = _as_rows("values", values)
        self._check_fitted(values.shape[1])
        _check_magnitude(values, "rows")
        z = _apply(values, self.steps, self._transformed_columns(values.shape[1]))
        return (z - self.center) / self.scale

    def inverse_transform(self, values, history=None):
        """Map transformed, scaled rows back to raw units.

        Parameters
        ----------
        values : array_like, shape (..., time, d)
            Transformed rows, e.g. a forecast of shape (batch, horizon, n_targets).  The ``d``
            columns are the first ``d`` fitted columns (targets come first), so target-only
            forecasts can be inverted.
        history : array_like, shape (..., t_hist, d), optional
            The raw rows immediately before ``values`` (same leading shape); needed when there is
            differencing, with ``t_hist >= offset``.  Only the last ``offset`` rows are used.

        Returns
        -------
        numpy.ndarray, shape (..., time, d), float64

        Examples
        --------
        >>> raw = np.array([[1.0], [3.0], [6.0], [10.0]])
        >>> pre = Preprocessor(["diff"], scaler="none").fit(raw)
        >>> forecast = np.array([[5.0], [6.0]])        # two future differences
        >>> pre.inverse_transform(forecast, history=raw).ravel()
        array([15., 21.])
        """
        z = np.array(values, dtype=np.float64)
        if z.ndim < 2:
            raise ValueError(f"values: expected shape (..., time, d), got {z.shape}")
        d = z.shape[-1]
        self._check_fitted(d, at_most=True)
        z = z * self.scale[:d] + self.center[:d]
        k = self._transformed_columns(d)
        past = None
        if self.offset:
            if history is None:
                raise ValueError(f"history: needed to undo differencing (the {self.offset} raw "
                                 "rows before values), got None")
            past = np.asarray(history, dtype=np.float64)
            want = z.shape[:-2] + (d,)
            if past.ndim != z.ndim or past.shape[:-2] + past.shape[-1:] != want \
                    or past.shape[-2] < self.offset:
                lead = "".join(f"{n}, " for n in z.shape[:-2])
                raise ValueError(f"history: expected shape ({lead}t >= {self.offset}, {d}), "
                                 f"got {past.shape}")
            past = past[..., past.shape[-2] - self.offset:, :]
        for i in reversed(range(len(self.steps))):
            kind, lag = self.steps[i]
            if kind == "log":
                z[..., :k] = np.exp(z[..., :k])
                continue
            before = _apply(past, self.steps[:i], k)[..., -lag:, :]
            full = np.concatenate([before, z], axis=-2)
            for t in range(z.shape[-2]):
                full[..., lag + t, :k] += full[..., t, :k]
            z = full[..., lag:, :]
        return z

    def to_dict(self):
        """The fitted state as a JSON-serialisable dict (restore with :meth:`from_dict`).

        Examples
        --------
        >>> state = Preprocessor(["log"], "minmax").fit([[1.0], [np.e]]).to_dict()
        >>> state["transforms"], state["scale"]
        (['log'], [1.0])
        """
        self._check_fitted(None)
        return {"transforms": self.transforms, "scaler": self.scaler, "n_targets": self.n_targets,
                "center": [float(c) for c in self.center], "scale": [float(s) for s in self.scale]}

    @classmethod
    def from_dict(cls, state):
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output.

        Examples
        --------
        >>> pre = Preprocessor(["diff"]).fit([[1.0], [2.0], [4.0]])
        >>> again = Preprocessor.from_dict(pre.to_dict())
        >>> bool(np.array_equal(again.transform([[1.0], [5.0]]), pre.transform([[1.0], [5.0]])))
        True
        """
        keys = ("transforms", "scaler", "n_targets", "center", "scale")
        missing = [k for k in keys if k not in state]
        if missing:
            raise ValueError(f"state: missing key(s) {missing}; expected the keys {list(keys)}")
        pre = cls(state["transforms"], state["scaler"], state["n_targets"])
        pre.center = np.asarray(state["center"], dtype=np.float64)
        pre.scale = np.asarray(state["scale"], dtype=np.float64)
        if pre.center.ndim != 1 or pre.center.shape != pre.scale.shape:
            raise ValueError(f"state: 'center' and 'scale' must be equal-length lists, got "
                             f"{len(state['center'])} and {len(state['scale'])} values")
        if not (np.all(np.isfinite(pre.center)) and np.all(np.isfinite(pre.scale))
                and np.all(pre.scale > 0)):
            raise ValueError("its center and scale must be finite, the scale > 0")
        return pre

    def _check_fitted(self, n_columns, at_most=False):
        if self.center is None:
            raise ValueError("Preprocessor: call fit(train) before transforming")
        fitted = len(self.center)
        if n_columns is None or n_columns == fitted or (at_most and n_columns <= fitted):
            return
        expected = f"at most {fitted}" if at_most else str(fitted)
        raise ValueError(f"values: expected {expected} columns (as fitted), got {n_columns}")


def _as_rows(argument, values):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"{argument}: expected shape (time, features), got {values.shape}")
    return values
