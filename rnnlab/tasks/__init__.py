"""The two data kinds behind one interface, so the training loop never branches on the kind.

A task owns the data of a run and everything that depends on its kind: the sizes of its network,
how an epoch is cut into batches and how a split is evaluated.  The session
(:mod:`rnnlab.training.session`) and the loop (:mod:`rnnlab.training.loop`) only call::

    task.kind                          -> "text" or "series"
    task.loss_label                    -> the loss with its unit, for plots and reports
    task.network_shape()               -> sizes for rnnlab.model.networks.build_network
    task.batches_per_epoch()           -> int
    task.step_items()                  -> (items per training step, their unit): throughput
    task.train_batch(epoch, index)     -> (x, y)          deterministic: resumable anywhere
    task.evaluate(functions, "val")    -> {"loss": ..., "bpc"/"perplexity" | "rmse"/"mae"/"mase"}
    task.meta()                        -> JSON-ready dict saved as the run's meta.json
    task.on_evaluation(session, step, rundir) -> files written (text samples; nothing for series)

:class:`TextTask` cuts the training characters into ``train.batch_size`` parallel streams read
``data.seq_len`` characters at a time (:class:`~rnnlab.datasets.batching.StreamBatcher`), so the
hidden state is carried from one batch to the next; :class:`SeriesTask` shuffles the training
windows of :func:`~rnnlab.datasets.timeseries.prepare` with ``default_rng([seed, epoch])``, so any
batch of any epoch can be rebuilt from ``(epoch, index)`` alone. Given the ``meta`` saved with a
run, a task gives its network's sizes without reading the data file (the vocabulary or the data
shape come from ``meta``); the data is read only when batches or metrics are asked for.

:func:`make_task` picks the task by ``data.kind``; :class:`TextTask` lives in
:mod:`rnnlab.tasks.text` and :class:`SeriesTask` in :mod:`rnnlab.tasks.series`, both re-exported
here.  Tasks come before the model in the data flow: the package may import datasets,
evaluation (metrics) and the foundations, never :mod:`rnnlab.model` or PyTensor (the benchmark's
PyTorch and numpy probes use the text task's batches without loading PyTensor).
"""

from rnnlab.errors import DataError
from rnnlab.tasks.series import TRANSFORMS, SeriesTask
from rnnlab.tasks.text import TextTask

__all__ = ["make_task", "TextTask", "SeriesTask", "TRANSFORMS"]


def make_task(cfg, meta=None, meta_source="meta"):
    """Build the task for a resolved config.

    Parameters
    ----------
    cfg : dict
        A config from :func:`rnnlab.config.load`.
    meta : dict, optional
        A run's saved ``meta.json`` (from :meth:`TextTask.meta` / :meth:`SeriesTask.meta`): the
        task then uses the saved vocabulary or checks the data against the saved preprocessing,
        and reads the data file only when it is needed.  Without it the data is read and
        checked at once, so impossible sizes fail before any work.
    meta_source : str
        What ``meta`` was read from (a run's ``meta.json`` path), for error messages.

    Returns
    -------
    TextTask or SeriesTask
        By ``cfg.data.kind``.

    Raises
    ------
    DataError
        Naming the file: unreadable data, or parts too short for the batch and window sizes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("to be or not to be, that is the question. " * 20)
    >>> cfg = config.load(None, [f"data.path={path}", "data.seq_len=8", "train.batch_size=4",
    ...                          "data.val_fraction=0.1", "data.test_fraction=0.1"])
    >>> task = make_task(cfg)
    >>> task.kind, task.vocab.size, task.batches_per_epoch()
    ('text', 15, 20)
    >>> x, y = task.train_batch(0, 3)
    >>> x.shape, y.shape, bool((x[:, 1:] == y[:, :-1]).all())
    ((4, 8), (4, 8), True)
    >>> tmp.cleanup()
    """
    kinds = {"text": TextTask, "series": SeriesTask}
    kind = cfg.data.kind
    if kind not in kinds:
        raise ValueError(f"cfg.data.kind={kind!r}: expected one of {', '.join(kinds)}")
    if meta is not None and meta.get("kind", kind) != kind:
        raise DataError(f"{meta_source} describes a {meta.get('kind')!r} run; the config has "
                        f"data.kind={kind!r}")
    return kinds[kind](cfg, meta, meta_source)

