"""The comparison report: finished runs grouped by what differs, mean ± std over seeds.

:mod:`rnnlab.reports.stats` reads the run directories, groups the runs by the config values that
differ between them (two runs that differ only in ``model.cell`` form the groups
``model.cell=elman`` and ``model.cell=lstm``) and summarises each group (mean and sample standard
deviation over seeds).  This module renders that: :func:`format_markdown` writes ``report.md``,
:func:`gradient_curves` the gradient-vs-lag curves, and :func:`write_report` every file of the
report with its plots.  The command is :mod:`rnnlab.commands.compare`.

Final metrics, from ``summary.json`` (see :func:`rnnlab.training.loop.train`): the best validation loss (the
checkpoint the test metrics use), the test split's loss and bits per character (text) or RMSE,
MAE and MASE in the data's units (series), the parameter count, the training time (training
steps only) and the number of steps.  For series the rolling-origin backtest over the test
region (``forecast.json``, :mod:`rnnlab.evaluation.forecasting`) puts the naive and seasonal-naive forecasts
beside the network, scored on the same origins.
"""

from pathlib import Path

import numpy as np

from rnnlab.evaluation import plots
from rnnlab.files import atomic_write_json, atomic_write_text
from rnnlab.reports import gradients
from rnnlab.reports.stats import (BASELINE_METRICS, BASELINE_MODELS, group_runs, metric_specs,
                                  summarize)

__all__ = ["format_markdown", "gradient_curves", "write_report"]


def _cell(stats):
    if stats["mean"] is None:
        return "—"
    text = f"{stats['mean']:.4g}"
    return text if stats["std"] is None else f"{text} ± {stats['std']:.2g}"


def _number(value):
    return "—" if value is None else f"{value:.4g}"


def _load(load):
    """``start → end`` of a run's 1-minute load averages (summary.json's ``load``)."""
    ends = [(load or {}).get(end) or {} for end in ("start", "end")]
    return " → ".join(_number(end.get("load_1min")) for end in ends)


def _cpus(report):
    counts = sorted({((r.get("load") or {}).get("start") or {}).get("cpus")
                     for r in report["runs"]} - {None})
    return f" (on {'/'.join(map(str, counts))} CPUs)" if counts else ""


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def format_markdown(report):
    """Render a report (as :mod:`rnnlab.commands.compare` builds it) as Markdown.

    Parameters
    ----------
    report : dict
        ``title``, ``command``, ``kind``, ``groups`` (:func:`summarize`), ``runs`` (one dict per
        run: ``name``, ``group``, ``seed``, ``stop_reason``, ``steps``, ``path``, optionally
        ``per_s`` (characters or windows per second) and ``load`` (summary.json's)), ``failed``,
        ``plots`` (name -> file) and ``gradients`` (``note``) -- optional keys may be missing.

    Returns
    -------
    str
        The Markdown text, ending with a newline.

    Examples
    --------
    >>> from rnnlab import config
    >>> from rnnlab.reports.stats import RunRecord
    >>> cfg = config.load(None, ["model.cell=elman"], check_files=False)
    >>> summary = {"best": {"val_loss": 1.5, "bpc": 2.164}, "steps": 20,
    ...            "load": {"start": {"load_1min": 0.5, "cpus": 2}, "end": {"load_1min": 1.25}}}
    >>> record = RunRecord(Path("runs/e0"), cfg, summary, [])
    >>> text = format_markdown({
    ...     "title": "Cells", "kind": "text", "groups": summarize({"elman": [record]}),
    ...     "runs": [{"name": "e0", "group": "elman", "seed": 0, "stop_reason": "max_steps",
    ...               "steps": 20, "path": "runs/e0", "per_s": 5210.4,
    ...               "load": summary["load"]}]})
    >>> lines = text.splitlines()
    >>> print("\\n".join([lines[0]] + lines[6:9]))
    # Cells
    | group | runs | best val bits/char | test bits/char | chars/s | ... | load at end |
    |---|---|---|---|---|---|---|---|---|---|
    | elman | 1 | 2.164 | — | — | — | — | 20 | 0.5 | 1.25 |
    >>> lines[-1]
    '| e0 | elman | 0 | max_steps | 20 | 5210 | 0.5 → 1.25 | `runs/e0` |'
    """
    kind = report["kind"]
    lines = [f"# {report.get('title', 'Comparison')}", ""]
    if report.get("command"):
        lines += [f"Command: `{report['command']}`", ""]
    seeds = sorted({len(g["runs"]) for g in report["groups"]})
    intro = (f"{sum(len(g['runs']) for g in report['groups'])} runs of {kind} models in "
             f"{len(report['groups'])} groups ({'/'.join(map(str, seeds))} per group); mean ± "
             "sample standard deviation (n − 1) over the runs of each group.")
    if kind == "text":
        intro += (" Scores are bits per character (report.json keeps the losses in nats too: "
                  "`val_loss`, `test_loss`).")
    intro += (" The load is the machine's 1-minute load average at the start and end of each "
              f"run{_cpus(report)}: a busy machine trains fewer steps in a time budget.")
    lines += [intro, "", "## Final metrics", ""]
    specs = [spec for spec in metric_specs(kind) if spec[2]]
    lines += _table(["group", "runs"] + [header for _, _, header in specs],
                    [[g["label"], str(len(g["runs"]))] + [_cell(g["metrics"][n])
                                                          for n, _, _ in specs]
                     for g in report["groups"]])
    with_baselines = [g for g in report["groups"] if "baselines" in g]
    if with_baselines:
        header = [f"{name} {metric.upper()}" for _, name in BASELINE_MODELS
                  for metric in BASELINE_METRICS]
        lines += ["", "## Against the baselines (rolling-origin backtest over the test split)",
                  "", "Every forecaster is scored on the same origins, and each figure is the "
                  "mean over the origins of that origin's score (the final metrics above are "
                  "pooled over every test window instead, so the RNN's figures differ between "
                  "the two tables). MASE divides by the training part's in-sample "
                  "seasonal-naive error; below 1 beats it.", ""]
        lines += _table(["group"] + header,
                        [[g["label"]] + [_cell(g["baselines"][f"{model}_{metric}"])
                                         for model, _ in BASELINE_MODELS
                                         for metric in BASELINE_METRICS]
                         for g in with_baselines])
        labels = sorted({label for g in with_baselines for label in g.get("coverage", {})},
                        key=float)
        if labels:
            lines += ["", "## Prediction intervals", "", "Split conformal, calibrated on the "
                      "validation origins; the share of test outcomes inside each band, in "
                      "percent (a band that covers less than its level promises too much).", ""]
            lines += _table(["group"] + [f"{label} % band covered" for label in labels],
                            [[g["label"]] + [_cell(g.get("coverage", {}).get(
                                label, {"mean": None})) for label in labels]
                             for g in with_baselines])
    plots = report.get("plots", {})
    score = "Validation bits/char" if report.get("kind") == "text" else "Validation loss"
    titles = {"val_loss_vs_step": f"{score} against training steps (one colour per group; "
                                  "a group of several runs has a band from its lowest to its "
                                  "highest)",
              "val_loss_vs_time": f"{score} against training time",
              "gradients_vs_lag": "Gradient norm against lag"}
    for key, title in titles.items():
        if key in plots:
            lines += ["", f"## {title}", "", f"![{title}]({plots[key]})"]
            if key == "gradients_vs_lag" and report.get("gradients", {}).get("note"):
                lines += ["", report["gradients"]["note"]]
    lines += ["", "## Runs", ""]
    unit = "chars/s" if kind == "text" else "windows/s"
    lines += _table(["run", "group", "seed", "stop reason", "steps", unit, "load start → end",
                     "directory"],
                    [[r["name"], r["group"], str(r["seed"]), str(r["stop_reason"]),
                      str(r["steps"]), _number(r.get("per_s")), _load(r.get("load")),
                      f"`{r['path']}`"] for r in report["runs"]])
    if report.get("failed"):
        lines += ["", "## Failed runs", ""]
        lines += [f"- {f['name']}: exit code {f['returncode']}, log `{f['log']}`"
                  for f in report["failed"]]
    return "\n".join(lines) + "\n"


def gradient_curves(groups, trained=False):
    """Gradient norm against lag (:mod:`rnnlab.reports.gradients`) for the compared cells or runs.

    Parameters
    ----------
    groups : dict of str to list of RunRecord
    trained : bool
        False: one curve per cell type, for a freshly initialised single-layer network with the
        first such run's hidden size and sequence length (at most 100 steps).  True: one curve
        per group, from each run's best checkpoint on its first training batch, averaged over
        the group's runs.

    Returns
    -------
    tuple
        ``({label: numpy.ndarray of norms by lag}, note)``: the note says what was measured.

    Examples
    --------
    >>> from rnnlab import config
    >>> from rnnlab.reports.stats import RunRecord
    >>> cfg = config.load(None, ["model.cell=elman", "model.hidden=4", "data.seq_len=6"],
    ...                   check_files=False)
    >>> curves, note = gradient_curves({"elman": [RunRecord(Path("r"), cfg, {}, [])]})
    >>> {label: norms.shape for label, norms in curves.items()}
    {'elman': (6,)}
    """
    curves = {}
    if trained:
        for label, records in groups.items():
            norms = [gradients.run_gradient_norms(record.path) for record in records]
            steps = min(len(n) for n in norms)
            curves[label] = np.mean([n[:steps] for n in norms], axis=0)
        return curves, ("Norm of dL/dh(T−1−k) for the loss at the last step of a sequence, for "
                        "the top recurrent layer of each trained network (best checkpoint, first "
                        "training batch, batch mean), averaged over the runs of each group.")
    for records in groups.values():
        for record in records:
            cfg = record.config
            if cfg.model.cell in curves:
                continue
            steps = cfg.data.seq_len if record.kind == "text" else cfg.data.lookback
            curves[cfg.model.cell] = gradients.cell_gradient_norms(
                cfg.model.cell, units=cfg.model.hidden, steps=min(steps, 100))
    return curves, ("Norm of dL/dh(T−1−k) for L = v·h(T−1) (v a random unit vector) in freshly "
                    "initialised one-layer networks of each cell type (the models' "
                    "initialisers, the runs' hidden size, 16 random input sequences, batch "
                    "mean). A straight line on this log scale is geometric decay: the "
                    "vanishing gradient. `--gradients` measures the trained runs instead.")


def _per_second(record):
    """Characters (text) or windows (series) trained per second, from summary.json."""
    unit = "chars_per_s" if record.kind == "text" else "windows_per_s"
    return (record.summary.get("throughput") or {}).get(unit)


def write_report(out_dir, records, title="Comparison", command="", failed=(), gradients="init"):
    """Write ``report.md``, ``report.json`` and the plots of a comparison into ``out_dir``.

    Parameters
    ----------
    out_dir : str or os.PathLike
        An existing directory.
    records : list of RunRecord
        From :func:`load_runs`.
    title, command : str
        For the report's heading.
    failed : sequence of dict
        Runs that did not finish: ``name``, ``returncode``, ``log``.
    gradients : {'init', 'trained', None}
        The gradient-vs-lag plot (see :func:`gradient_curves`); None: no plot.

    Returns
    -------
    dict
        ``md`` and ``json``: the paths written.

    Examples
    --------
    >>> import tempfile
    >>> from rnnlab import config
    >>> from rnnlab.reports.stats import RunRecord
    >>> tmp = tempfile.TemporaryDirectory()
    >>> rows = [{"step": 10.0, "wall_time": 1.0, "val_loss": 2.0, "bpc": 2.9}]
    >>> records = [RunRecord(Path(f"s{seed}"), config.load(None, [f"train.seed={seed}"],
    ...                                                     check_files=False),
    ...                      {"best": {"val_loss": 2.0 + seed, "bpc": 3.0 + seed}, "steps": 10,
    ...                       "throughput": {"chars_per_s": 5000.0 + seed}}, rows)
    ...            for seed in (0, 1)]
    >>> paths = write_report(tmp.name, records, gradients=None)
    >>> print(paths["md"].read_text().splitlines()[8])
    | lstm | 2 | 3.5 ± 0.71 | — | 5000 ± 0.71 | — | — | 10 ± 0 | — | — |
    >>> tmp.cleanup()
    """
    out_dir = Path(out_dir)
    groups = group_runs(records)
    report = {"title": title, "command": command, "kind": records[0].kind,
              "groups": summarize(groups), "plots": {},
              "runs": [{"name": r.name, "group": label, "seed": r.seed,
                        "stop_reason": r.summary.get("stop_reason"),
                        "steps": r.summary.get("steps"), "path": str(r.path),
                        "per_s": _per_second(r), "load": r.summary.get("load")}
                       for label, members in groups.items() for r in members],
              "failed": [{key: f[key] for key in ("name", "returncode", "log")} for f in failed]}
    # One colour per group, a band over its seeds; text in bits/char (what the tables show).
    overlay = {label: [r.rows for r in members] for label, members in groups.items()}
    y, ylabel = (("bpc", "validation bits/char") if records[0].kind == "text" else
                 ("val_loss", "validation loss: MSE of the scaled values"))
    data = sorted({Path(r.config.data.path).name for r in records})
    for key, x in (("val_loss_vs_step", "step"), ("val_loss_vs_time", "wall_time")):
        plots.plot_overlay(overlay, out_dir / f"{key}.png", x=x, y=y, ylabel=ylabel,
                           title=f"{title} on {', '.join(data)}")
        report["plots"][key] = f"{key}.png"
    if gradients:
        curves, note = gradient_curves(groups, trained=gradients == "trained")
        plots.plot_gradient_vs_lag({label: (np.arange(len(n)), n) for label, n in curves.items()},
                                   out_dir / "gradients_vs_lag.png", title=title)
        report["plots"]["gradients_vs_lag"] = "gradients_vs_lag.png"
        report["gradients"] = {"mode": gradients, "note": note,
                               "norms_by_lag": {label: n.tolist() for label, n in curves.items()}}
    paths = {"md": out_dir / "report.md", "json": out_dir / "report.json"}
    atomic_write_json(paths["json"], report)
    atomic_write_text(paths["md"], format_markdown(report))
    return paths


if __name__ == "__main__":
    raise SystemExit("rnnlab.reports.comparison is a library module, not a command: "
                     "python -m rnnlab.compare RUN_DIR ... writes the report of finished runs (see its --help)")
