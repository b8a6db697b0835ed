"""Reports over finished runs: grouping and statistics, the comparison report, gradient analysis.

:mod:`~rnnlab.reports.stats` reads run directories and summarises them per group (mean ± std
over seeds); :mod:`~rnnlab.reports.comparison` renders and writes ``report.md``/``report.json``
and its plots (what ``python -m rnnlab.compare`` writes); :mod:`~rnnlab.reports.gradients`
measures how a loss's gradient shrinks with the lag through a recurrent layer (the vanishing
gradient of an Elman network against an LSTM).  May import every library package; nothing
imports reports but the commands.
"""
