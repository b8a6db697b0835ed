"""A run on disk: the directory a training run writes and every command reads back.

:class:`~rnnlab.run.directory.RunDir` owns the layout (the names of the run's files and folders
appear nowhere else) and the checks that a directory is a run, a finished run, or holds a
checkpoint.  Modules here may import :mod:`rnnlab.errors`, :mod:`rnnlab.files` (atomic file I/O),
:mod:`rnnlab.run.checkpoint` and :mod:`rnnlab.config`; nothing that builds or trains a model.
"""

from rnnlab.run.directory import CHECKPOINTS, RunDir

__all__ = ["RunDir", "CHECKPOINTS"]
