"""Training: one run's session, its checkpointed state and the loop; grids of runs.

:mod:`~rnnlab.training.session` builds a config's task, network and compiled functions once (and
rebuilds a run directory's, :func:`~rnnlab.training.session.load_run`);
:mod:`~rnnlab.training.state` turns a session into named arrays and JSON and back (what a
checkpoint holds); :mod:`~rnnlab.training.loop` trains: :func:`train` is what ``python -m
rnnlab.train`` runs; :mod:`~rnnlab.training.sweep` runs a grid of runs as separate processes,
locally or on a Dask cluster (what ``python -m rnnlab.compare`` trains with);
:mod:`~rnnlab.training.refit` trains a finished run again on all its data (``rnnlab.forecast
--refit``). May import nn,
config, tasks, model, run, evaluation (plots) and the foundations (errors, files, backend); never
reports or commands.
"""

from rnnlab.training.loop import train

__all__ = ["train"]
