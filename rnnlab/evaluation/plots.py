"""Figures of a run or of several runs, written as PNG files: pure functions, no global state.

Every function takes plain numbers (lists, arrays, or the rows of ``metrics.csv`` as dicts) and a
path, draws one figure with matplotlib's object-oriented API on an Agg canvas (never ``pyplot``,
so no window, no global figure registry and no backend switch), renders it to PNG bytes and writes
them with :func:`rnnlab.files.atomic_write_bytes`, so a reader never sees half a file:

* :func:`plot_learning_curves` -- training and validation loss against steps and against
  training wall time (``plots/loss_vs_step.png`` and ``plots/loss_vs_time.png`` of a run);
* :func:`plot_overlay` -- one metric of several runs on one axis, a colour and a band per group
  of seeds (Elman against LSTM);
* :func:`plot_forecast` -- history, actual values, the network's forecast and baselines;
* :func:`plot_gradient_vs_lag` -- the norm of the loss gradient with respect to the hidden state
  ``k`` steps back, log scale (the vanishing gradient).
"""

import io
import math
import warnings
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rnnlab.files import atomic_write_bytes

__all__ = ["plot_learning_curves", "plot_curve", "plot_overlay", "plot_forecast",
           "plot_gradient_vs_lag", "column"]

_AXES = {"step": "training step", "wall_time": "training wall time (s)"}
_DPI = 100


def column(rows, key):
    """One column of metrics rows as floats; a missing or empty cell becomes NaN.

    Parameters
    ----------
    rows : sequence of dict
        Rows as written to (or read back from) ``metrics.csv``; values are numbers, numeric
        strings, ``""`` or ``None``.
    key : str
        The column.

    Returns
    -------
    numpy.ndarray of float64, shape (len(rows),)

    Examples
    --------
    >>> column([{"val_loss": "2.5"}, {"val_loss": ""}, {}], "val_loss")
    array([2.5, nan, nan])
    """
    values = []
    for row in rows:
        value = row.get(key)
        values.append(math.nan if value is None or value == "" else float(value))
    return np.asarray(values, dtype=np.float64)


def _save(fig, path):
    """Lay out and render ``fig`` to PNG bytes, write them atomically; return the path."""

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A title (a run's name) may hold characters the font lacks: drawn as boxes, not a
        # warning on the command's stderr.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _finite(x, y):
    """Drop points where x or y is NaN/inf (empty cells)."""
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _check_x(x):
    if x not in _AXES:
        raise ValueError(f"x={x!r}: expected one of {sorted(_AXES)}")


def plot_curve(rows, path, x="step", title="", ylabel="loss"):
    """Plot training and validation loss of one run against steps or wall time.

    Parameters
    ----------
    rows : sequence of dict
        ``metrics.csv`` rows with ``step``, ``wall_time``, ``train_loss`` and ``val_loss``.
    path : str or os.PathLike
        The PNG file to write (parent folders are created).
    x : {'step', 'wall_time'}
        The horizontal axis.
    title : str
        Figure title.
    ylabel : str
        The vertical axis' label, with the loss's unit (e.g. ``"loss (nats/char)"``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> rows = [{"step": 10, "wall_time": 1.0, "train_loss": 3.0, "val_loss": 2.9},
    ...         {"step": 20, "wall_time": 2.1, "train_loss": 2.5, "val_loss": ""}]
    >>> out = plot_curve(rows, pathlib.Path(tmp.name) / "loss.png")
    >>> out.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    >>> tmp.cleanup()
    """
    _check_x(x)
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    xs = column(rows, x)
    for key, label, style in (("train_loss", "training", "-"), ("val_loss", "validation", "o-")):
        px, py = _finite(xs, column(rows, key))
        if len(px):
            ax.plot(px, py, style, label=label, markersize=3)
    ax.set_xlabel(_AXES[x])
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_learning_curves(rows, out_dir, title="", ylabel="loss"):
    """Write ``loss_vs_step.png`` and ``loss_vs_time.png`` for one run into ``out_dir``.

    Parameters
    ----------
    rows : sequence of dict
        ``metrics.csv`` rows (see :func:`plot_curve`).
    out_dir : str or os.PathLike
        Folder for the two PNG files (created if needed), e.g. ``<run>/plots``.
    title : str
        Figure title (the run and its data).
    ylabel : str
        The vertical axis' label, with the loss's unit.

    Returns
    -------
    list of pathlib.Path
        The two files, step first.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> rows = [{"step": 1, "wall_time": 0.5, "train_loss": 3.0, "val_loss": 2.9}]
    >>> [p.name for p in plot_learning_curves(rows, tmp.name)]
    ['loss_vs_step.png', 'loss_vs_time.png']
    >>> tmp.cleanup()
    """
    out_dir = Path(out_dir)
    return [plot_curve(rows, out_dir / "loss_vs_step.png", x="step", title=title, ylabel=ylabel),
            plot_curve(rows, out_dir / "loss_vs_time.png", x="wall_time", title=title,
                       ylabel=ylabel)]


def _band(runs, x, y):
    """The mean, min, max and number of ``runs`` with points, on the x values they all cover.

    Each run's finite points are interpolated linearly onto the union of their x values,
    restricted to the span every run covers; ``None`` when that span is empty.
    """
    curves = [_finite(column(rows, x), column(rows, y)) for rows in runs]
    curves = [(px[np.argsort(px)], py[np.argsort(px)]) for px, py in curves if len(px)]
    if len(curves) < 2:   # a band needs two runs with points
        return None
    low, high = max(px[0] for px, _ in curves), min(px[-1] for px, _ in curves)
    grid = np.unique(np.concatenate([px for px, _ in curves]))
    grid = grid[(grid >= low) & (grid <= high)]
    if not len(grid):
        return None
    values = np.stack([np.interp(grid, px, py) for px, py in curves])
    return grid, values.mean(axis=0), values.min(axis=0), values.max(axis=0), len(curves)


def _overlay_figure(runs, x, y, title, ylabel):
    """The figure of :func:`plot_overlay` (kept apart so that tests can read its artists)."""
    _check_x(x)
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f"runs={runs!r}: expected a non-empty dict of label -> metrics rows "
                         "(one run) or a list of them (a group of runs)")
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    for index, (label, member) in enumerate(runs.items()):
        group = list(member) if member and not isinstance(member[0], dict) else [member]
        colour = f"C{index % 10}"
        band = _band(group, x, y)
        named = band is not None   # the mean line carries the label, else the first run's
        for rows in group:
            px, py = _finite(column(rows, x), column(rows, y))
            single = band is None
            ax.plot(px, py, "o-" if single else "-", markersize=3, color=colour,
                    alpha=1.0 if single else 0.35, linewidth=1.5 if single else 0.8,
                    label=None if named or not len(px) else str(label))
            named = named or bool(len(px))
        if band is not None:
            grid, mean, low, high, count = band
            ax.fill_between(grid, low, high, color=colour, alpha=0.2, linewidth=0)
            ax.plot(grid, mean, "-", color=colour, linewidth=2.0,
                    label=f"{label} (mean of {count}, band min-max)")
    ax.set_xlabel(_AXES[x])
    ax.set_ylabel(ylabel or y.replace("_", " "))
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:   # not for runs without a point of ``y``
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def plot_overlay(runs, path, x="step", y="val_loss", title="", ylabel=None):
    """Overlay one metric of several runs or groups of runs, one colour per entry.

    A group (several seeds of one setting) is drawn in one colour: each run thin and faint,
    their mean bold, and a band from their minimum to their maximum (over the span of ``x``
    that every run of the group covers, linearly interpolated).

    Parameters
    ----------
    runs : dict
        Label (e.g. ``"lstm"``) -> that run's ``metrics.csv`` rows (a sequence of dicts), or a
        list of such row sequences for a group.
    path : str or os.PathLike
        The PNG file to write.
    x : {'step', 'wall_time'}
        The horizontal axis.
    y : str
        The metrics column to plot (``val_loss``, ``bpc``, ``mase``, ...).
    title : str
        Figure title.
    ylabel : str, optional
        The vertical axis' label, with its unit (default: ``y`` in words).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> runs = {"elman": [{"step": 1, "val_loss": 3.0}, {"step": 2, "val_loss": 2.8}],
    ...         "lstm": [[{"step": 1, "val_loss": 2.9}, {"step": 2, "val_loss": 2.5}],
    ...                  [{"step": 1, "val_loss": 2.7}, {"step": 2, "val_loss": 2.6}]]}
    >>> plot_overlay(runs, pathlib.Path(tmp.name) / "val.png", ylabel="loss (nats)").name
    'val.png'
    >>> tmp.cleanup()
    """
    return _save(_overlay_figure(runs, x, y, title, ylabel), path)


def plot_forecast(path, history, actual, forecast, baselines=None, history_x=None,
                  forecast_x=None, title="", ylabel="value", bands=None):
    """Plot a forecast against the actual values, with the history before it, baselines and bands.

    Parameters
    ----------
    path : str or os.PathLike
        The PNG file to write.
    history : array_like, shape (n_history,)
        Observed values before the forecast origin.
    actual : array_like, shape (horizon,), or None
        What happened over the forecast period (None for a forecast past the data).
    forecast : array_like, shape (horizon,)
        The network's forecast.
    baselines : dict of str to array_like of shape (horizon,), optional
        Other forecasts to draw dashed (``{"seasonal naive": ...}``).
    history_x, forecast_x : array_like, optional
        Horizontal positions (numbers or datetime64) of the history and forecast points; by
        default ``0 .. n_history - 1`` and the ``horizon`` positions after them.
    title, ylabel : str
        Figure title and vertical axis label.
    bands : dict of str to (lower, upper), each array_like of shape (horizon,), optional
        Prediction intervals drawn shaded around the forecast (``{"80 %": (lo, hi)}``), the
        widest lightest.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> out = plot_forecast(pathlib.Path(tmp.name) / "f.png", history=[1.0, 2.0, 3.0],
    ...                     actual=[4.0, 5.0], forecast=[3.9, 5.2],
    ...                     baselines={"naive": [3.0, 3.0]},
    ...                     bands={"80 %": ([3.5, 4.5], [4.3, 5.9])})
    >>> out.exists()
    True
    >>> plot_forecast(pathlib.Path(tmp.name) / "g.png", [1.0, 2.0], None, [3.0]).exists()
    True
    >>> tmp.cleanup()
    """
    history = np.asarray(history, dtype=np.float64).ravel()
    forecast = np.asarray(forecast, dtype=np.float64).ravel()
    if actual is not None:
        actual = np.asarray(actual, dtype=np.float64).ravel()
        if forecast.shape != actual.shape:
            raise ValueError(f"forecast: shape {forecast.shape}; expected the shape of actual "
                             f"{actual.shape}")
    hx = np.arange(len(history)) if history_x is None else np.asarray(history_x)
    fx = (np.arange(len(history), len(history) + len(forecast)) if forecast_x is None
          else np.asarray(forecast_x))
    if hx.shape != history.shape or fx.shape != forecast.shape:
        raise ValueError(f"history_x/forecast_x: shapes {hx.shape}/{fx.shape}; expected "
                         f"{history.shape}/{forecast.shape}")
    fig = Figure(figsize=(7.2, 4.0))
    ax = fig.add_subplot()
    ax.plot(hx, history, color="0.4", label="history")
    ordered = sorted((bands or {}).items(),
                     key=lambda item: -float(np.nanmean(np.subtract(item[1][1], item[1][0]))))
    for shade, (label, (lower, upper)) in enumerate(ordered):
        lower = np.asarray(lower, dtype=np.float64).ravel()
        upper = np.asarray(upper, dtype=np.float64).ravel()
        if lower.shape != forecast.shape or upper.shape != forecast.shape:
            raise ValueError(f"bands[{label!r}]: shapes {lower.shape}/{upper.shape}; expected "
                             f"{forecast.shape}")
        ax.fill_between(fx, lower, upper, color="tab:red", alpha=0.12 + 0.12 * shade,
                        linewidth=0, label=f"{label} interval")
    if actual is not None:
        ax.plot(fx, actual, "o-", color="black", markersize=3, label="actual")
    ax.plot(fx, forecast, "o-", color="tab:red", markersize=3, label="forecast")
    for label, values in (baselines or {}).items():
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.shape != forecast.shape:
            raise ValueError(f"baselines[{label!r}]: shape {values.shape}; expected "
                             f"{forecast.shape}")
        ax.plot(fx, values, "--", label=str(label))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    if np.issubdtype(fx.dtype, np.datetime64):
        fig.autofmt_xdate()
    return _save(fig, path)


def plot_gradient_vs_lag(curves, path, title=""):
    """Plot gradient norm against lag, one line per network, on a log scale.

    Parameters
    ----------
    curves : dict of str to (lags, norms)
        Label (``"elman"``, ``"lstm"``) -> lags ``k`` (shape (n,)) and the norm of
        ``d loss / d h_{T-k}`` at each (shape (n,)); non-positive norms are left out.
    path : str or os.PathLike
        The PNG file to write.
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> lags = np.arange(5)
    >>> curves = {"elman": (lags, 0.5 ** lags), "lstm": (lags, 0.9 ** lags)}
    >>> plot_gradient_vs_lag(curves, pathlib.Path(tmp.name) / "g.png").suffix
    '.png'
    >>> tmp.cleanup()
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError(f"curves={curves!r}: expected a non-empty dict of label -> (lags, norms)")
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    for label, (lags, norms) in curves.items():
        lags = np.asarray(lags, dtype=np.float64)
        norms = np.asarray(norms, dtype=np.float64)
        if lags.shape != norms.shape or lags.ndim != 1:
            raise ValueError(f"curves[{label!r}]: lags {lags.shape} and norms {norms.shape}; "
                             f"expected two arrays of shape (n,)")
        keep = np.isfinite(norms) & (norms > 0)
        ax.plot(lags[keep], norms[keep], "o-", markersize=3, label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel("lag k (steps back from the loss)")
    ax.set_ylabel("‖∂ loss / ∂ h(T−k)‖")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)
