"""Data sets: time series CSVs to forecasting windows, and character text to ids.

:mod:`rnnlab.datasets.timeseries` loads, splits, preprocesses and windows a CSV time series
without leakage; :mod:`rnnlab.datasets.text` maps characters to ids (batched for truncated BPTT
by :mod:`rnnlab.datasets.batching`).  May import NumPy, pandas and :mod:`rnnlab.errors`
only: data is read and shaped before anything knows about networks or configs.
"""

from . import text, timeseries

__all__ = ["text", "timeseries"]
