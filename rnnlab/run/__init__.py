"""A run on disk: the directory a training run writes and every command reads back.

:class:`~rnnlab.run.directory.RunDir` owns the layout (the names of the run's files and folders
appear nowhere else) and the checks that a directory is a run, a finished run, or holds a
checkpoint; :mod:`~rnnlab.run.checkpoint` reads and writes checkpoints and
:mod:`~rnnlab.run.metrics_log` the metrics log.  The package may import :mod:`rnnlab.errors`,
:mod:`rnnlab.files` (atomic file I/O) and :mod:`rnnlab.config`; nothing that builds or trains a
model.
"""

from rnnlab.run.directory import CHECKPOINTS, RunDir

__all__ = ["RunDir", "CHECKPOINTS"]
