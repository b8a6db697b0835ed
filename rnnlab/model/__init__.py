"""The model of a run: its layer stack and its compiled functions.

:mod:`~rnnlab.model.networks` builds the networks of the two tasks from ``model.*`` (a character
language model, a forecaster) out of :mod:`rnnlab.nn` layers; :mod:`~rnnlab.model.compile`
compiles their train, evaluate and predict functions.  May import :mod:`rnnlab.nn`,
:mod:`rnnlab.config` (the model and train records), :mod:`rnnlab.errors` and
:mod:`rnnlab.backend`; nothing about data, runs or commands.
"""
