"""Scoring forecasts and drawing curves: metrics, baselines, the test forecast, plots.

:mod:`~rnnlab.evaluation.metrics` (MAE, RMSE, MAPE, sMAPE, MASE),
:mod:`~rnnlab.evaluation.baselines` (naive, seasonal naive, drift, seasonal naive with drift),
:mod:`~rnnlab.evaluation.forecasting` (a series run's test forecast, rolling-origin backtest and
future, what ``python -m rnnlab.forecast`` prints), :mod:`~rnnlab.evaluation.intervals`
(split-conformal prediction intervals and their coverage) and
:mod:`~rnnlab.evaluation.plots` (learning curves, forecasts, gradient-vs-lag).  May import
datasets, run and the foundations; it takes a session as an argument and never builds one.
"""
