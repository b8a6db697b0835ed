"""The benchmark's results as plain-text tables (what ``python -m rnnlab.bench`` prints).

Speeds are characters per second with their ratio to PyTorch's in the same configuration and
cell (``0.80x``: rnnlab reaches 80% of PyTorch's speed); ``—`` marks a model a framework does not
have (the numpy reference has no GRU) or a framework left out.  ``loss Δ`` is the largest spread
of the warm-up steps' losses across the frameworks, which start from the same parameters: near
float32 rounding (1e-6) when they compute the same thing.
"""

import math

from rnnlab.bench import specs

__all__ = ["format_count", "format_results"]

MIB = 2 ** 20
_NAMES = {"rnnlab": "rnnlab", "torch": "PyTorch", "numpy": "numpy ref (f64)"}


def format_count(value):
    """A rate for a table: three significant digits with a k or M suffix; ``—`` for None.

    Examples
    --------
    >>> [format_count(v) for v in (987.6, 12345, 123456, 2.5e6, None)]
    ['988', '12.3k', '123k', '2.50M', '—']
    """
    if value is None or not math.isfinite(value):
        return "—"
    for scale, suffix in ((1e6, "M"), (1e3, "k"), (1, "")):
        if abs(value) >= scale or scale == 1:
            scaled = value / scale
            digits = 0 if abs(scaled) >= 100 or not suffix else 1 if abs(scaled) >= 10 else 2
            return f"{scaled:.{digits}f}{suffix}"
    raise AssertionError("unreachable")


def _table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [header] + rows]
    return "\n".join(lines[:1] + ["  ".join("-" * w for w in widths)] + lines[1:])


def _label(name):
    return specs.find_config(name).label


def _speed_cell(row):
    if row is None or row.get("chars_per_second") is None:
        return "—"
    ratio = row.get("ratio_to_torch")
    shown = format_count(row["chars_per_second"])
    return shown if ratio is None or row["framework"] == "torch" else f"{shown} ({ratio:.2f}x)"


def _loss_spread(rows):
    losses = [r["warmup_losses"] for r in rows if r.get("warmup_losses")]
    if len(losses) < 2:
        return "—"
    spread = max(max(step) - min(step) for step in zip(*losses))
    return f"{spread:.0e}"


def _speed_table(rows, frameworks, with_loss):
    keys = list(dict.fromkeys((r["config"], r["cell"]) for r in rows))
    found = {(r["config"], r["cell"], r["framework"]): r for r in rows}
    header = ["config", "cell"] + [_NAMES[f] for f in frameworks] + (["loss Δ"] if with_loss
                                                                     else [])
    table = []
    for config, cell in keys:
        group = [found.get((config, cell, f)) for f in frameworks]
        line = [_label(config), cell] + [_speed_cell(r) for r in group]
        if with_loss:
            line.append(_loss_spread([r for r in group if r is not None]))
        table.append(line)
    return _table(header, table)


def _mib(value):
    return "—" if value is None else f"{value / MIB:.0f}"


def _memory_table(rows):
    header = ["cell", "framework", "RSS after imports", "peak RSS", "peak - after imports",
              "peak while training"]
    table = []
    for r in rows:
        if "error" in r:
            table.append([r["cell"], _NAMES[r["framework"]], "failed: " + r["error"][:60]])
            continue
        table.append([r["cell"], _NAMES[r["framework"]], _mib(r["rss_after_imports"]),
                      _mib(r["peak_rss"]), _mib(r["peak_increase"]),
                      _mib(r["training_peak_rss"])])
    return _table(header, [line + [""] * (len(header) - len(line)) for line in table])


def _seconds(probe):
    return "failed" if "error" in probe else f"{probe['start_seconds']:.1f}"


def _start_table(rows):
    header = ["cell", "framework", "cold (empty cache)", "after set-up", "warm (filled cache)",
              "warm: import / build / first step"]
    table = []
    for r in rows:
        warm = r["warm"]
        parts = ("—" if "error" in warm else
                 f"{warm['import_seconds']:.1f} / {warm['build_seconds']:.1f} / "
                 f"{warm['first_step_seconds']:.1f}")
        table.append([r["cell"], _NAMES[r["framework"]], _seconds(r["cold"]),
                      _seconds(r["after_setup"]) if "after_setup" in r else "—", _seconds(warm),
                      parts])
    return _table(header, table)


def format_results(results):
    """The results of :func:`rnnlab.bench.suite.run_benchmark` as printed tables.

    Parameters
    ----------
    results : dict

    Returns
    -------
    str
        Training and sampling speed tables, then memory (MiB) and start-up (seconds) tables
        when they were measured, then notes.

    Examples
    --------
    >>> rows = [{"config": "c", "cell": "lstm", "framework": "rnnlab", "chars_per_second": 15e3,
    ...          "ratio_to_torch": 1.2, "warmup_losses": [4.1, 4.0]},
    ...         {"config": "c", "cell": "lstm", "framework": "torch", "chars_per_second": 12.5e3,
    ...          "ratio_to_torch": 1.0, "warmup_losses": [4.1, 4.0000004]}]
    >>> results = {"machine": {"cpu_count": 2}, "settings": {"mode": "NUMBA", "repeats": 3,
    ...            "frameworks": ["rnnlab", "torch"], "sample_length": 500, "notes": []},
    ...            "training": rows, "sampling": [], "memory": [], "start": []}
    >>> print(format_results(results))  # doctest: +NORMALIZE_WHITESPACE
    Training speed, characters/second (x PyTorch); rnnlab mode NUMBA, 2 cores, median of 3 rounds
    config                           cell  rnnlab         PyTorch  loss Δ
    -------------------------------  ----  -------------  -------  ------
    (c) batch 1, seq 25, hidden 100  lstm  15.0k (1.20x)  12.5k    4e-07
    """
    settings, machine = results["settings"], results["machine"]
    frameworks = settings["frameworks"]
    where = " on the GPU" if settings.get("device") == "gpu" else ""
    parts = [f"Training speed, characters/second (x PyTorch){where}; rnnlab mode "
             f"{settings['mode']}, "
             f"{machine['cpu_count']} cores, median of {settings['repeats']} rounds",
             _speed_table(results["training"], frameworks, with_loss=True)]
    if results["sampling"]:
        parts += ["", f"Sampling speed, characters/second ({settings['sample_length']} "
                      f"characters, one call each; x PyTorch)",
                  _speed_table(results["sampling"], frameworks, with_loss=False)]
    if results["memory"]:
        parts += ["", f"Memory, MiB, config {_label(results['memory'][0]['config'])} (each in "
                      f"its own process)", _memory_table(results["memory"])]
    if results["start"]:
        parts += ["", f"Start-up, seconds from process start to the first finished training "
                      f"step, config {_label(results['start'][0]['config'])}",
                  _start_table(results["start"])]
        setup = results.get("setup")
        if setup:
            parts += [f"set-up: python -m rnnlab.warmup {' '.join(setup['args'])} took "
                      f"{setup['seconds']:.0f} s" if "error" not in setup
                      else f"set-up failed: {setup['error']}"]
    if settings.get("notes"):
        parts += [""] + [f"note: {note}" for note in settings["notes"]]
    return "\n".join(parts)
