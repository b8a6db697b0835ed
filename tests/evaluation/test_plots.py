"""rnnlab.evaluation.plots: every figure is a valid PNG of the documented size, written atomically."""

import numpy as np
import pytest
from matplotlib.image import imread

from rnnlab.evaluation.plots import (column, plot_curve, plot_forecast, plot_gradient_vs_lag,
                                     plot_learning_curves, plot_overlay)

ROWS = [{"step": 100.0, "wall_time": 3.5, "train_loss": 3.1, "val_loss": 2.9},
        {"step": 200.0, "wall_time": 7.0, "train_loss": 2.4, "val_loss": None},
        {"step": 250.0, "wall_time": 8.9, "train_loss": "", "val_loss": 2.2}]


def _image(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(path)


def _no_temporaries(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_column_reads_numbers_strings_and_empty_cells():
    np.testing.assert_array_equal(column(ROWS, "train_loss"), [3.1, 2.4, np.nan])
    np.testing.assert_array_equal(column(ROWS, "missing"), [np.nan] * 3)


def test_learning_curves_write_two_figures_that_depend_on_the_axis(tmp_path):
    step, time = plot_learning_curves(ROWS, tmp_path / "plots", title="run")
    assert (step.name, time.name) == ("loss_vs_step.png", "loss_vs_time.png")
    a, b = _image(step), _image(time)
    assert a.shape == b.shape == (400, 640, 4)
    assert not np.array_equal(a, b)  # different horizontal axes
    assert _no_temporaries(tmp_path / "plots")
    plot_curve(ROWS, step)  # rewriting replaces the file
    assert _image(step).shape == (400, 640, 4)
    with pytest.raises(ValueError, match="x='epoch'"):
        plot_curve(ROWS, tmp_path / "x.png", x="epoch")


def test_an_empty_log_still_gives_a_figure(tmp_path):
    assert _image(plot_curve([], tmp_path / "empty.png")).shape == (400, 640, 4)


def test_a_title_the_font_cannot_draw_is_drawn_without_a_warning(tmp_path):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the command's stderr would get any warning
        path = plot_curve(ROWS, tmp_path / "a.png", title="\u0930\u0928 \U0001F600\tx")
    assert _image(path).shape == (400, 640, 4)


def test_overlay_draws_one_line_per_run(tmp_path):
    runs = {"elman s0": ROWS, "lstm s0": [dict(r, val_loss=2.0) for r in ROWS]}
    one = _image(plot_overlay({"elman s0": ROWS}, tmp_path / "one.png"))
    two = _image(plot_overlay(runs, tmp_path / "two.png", x="wall_time", y="val_loss"))
    assert one.shape == two.shape and not np.array_equal(one, two)
    with pytest.raises(ValueError, match="runs"):
        plot_overlay({}, tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def test_forecast_plot_with_dates_and_baselines(tmp_path):
    months = np.arange("1959-01", "1961-01", dtype="datetime64[M]")
    history, actual = np.linspace(300, 400, 12), np.linspace(400, 450, 12)
    path = plot_forecast(tmp_path / "forecast.png", history, actual, actual * 1.01,
                         baselines={"seasonal naive": history},
                         history_x=months[:12], forecast_x=months[12:], ylabel="passengers")
    assert _image(path).shape == (400, 720, 4)
    with pytest.raises(ValueError, match="forecast"):
        plot_forecast(tmp_path / "bad.png", history, actual, actual[:5])
    with pytest.raises(ValueError, match="baselines"):
        plot_forecast(tmp_path / "bad.png", history, actual, actual, baselines={"n": [1.0]})
    assert not (tmp_path / "bad.png").exists()


def test_gradient_vs_lag_uses_a_log_scale_and_skips_zeros(tmp_path):
    lags = np.arange(20)
    curves = {"elman": (lags, 0.7 ** lags), "lstm": (lags, np.where(lags > 15, 0.0, 0.95 ** lags))}
    assert _image(plot_gradient_vs_lag(curves, tmp_path / "g.png")).shape == (400, 640, 4)
    with pytest.raises(ValueError, match="curves\\['elman'\\]"):
        plot_gradient_vs_lag({"elman": (lags, lags[:3])}, tmp_path / "g.png")


def test_a_group_of_seeds_is_one_colour_with_a_min_max_band():
    from matplotlib.collections import PolyCollection

    from rnnlab.evaluation.plots import _overlay_figure

    def rows(offset, steps=(100, 200, 300)):
        return [{"step": s, "val_loss": 3.0 - s / 200 + offset} for s in steps]
    runs = {"elman": [rows(0.0), rows(0.2), rows(0.4, steps=(100, 200))],
            "lstm": [rows(-1.0), rows(-0.8)], "gru": rows(-2.0)}
    ax = _overlay_figure(runs, "step", "val_loss", "t", "validation loss (nats)").axes[0]
    colours = {}
    for line in ax.lines:
        colours.setdefault(line.get_color(), []).append(line)
    assert len(colours) == 3                             # one colour per group
    assert sorted(len(lines) for lines in colours.values()) == [1, 3, 4]  # runs + mean line
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2                               # no band for a single run
    elman = next(line for line in ax.lines if line.get_label().startswith("elman (mean of 3"))
    # The band covers the steps every elman run has (100-200), the mean is over the three runs.
    np.testing.assert_allclose(elman.get_xdata(), [100, 200])
    np.testing.assert_allclose(elman.get_ydata(), [2.5 + 0.2, 2.0 + 0.2])
    assert ax.get_ylabel() == "validation loss (nats)"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "elman (mean of 3, band min-max)", "lstm (mean of 2, band min-max)", "gru"}
    # A group where one run only has points: drawn as that run, still in the legend.
    lone = _overlay_figure({"elman": [rows(0.0), []], "lstm": rows(1.0)}, "step", "val_loss",
                           "", None).axes[0]
    assert {t.get_text() for t in lone.get_legend().get_texts()} == {"elman", "lstm"}
