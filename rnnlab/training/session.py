"""A session: one config's task, network and compiled functions, built once, in the right order.

:func:`build_session` applies the config's ``device`` section (:func:`rnnlab.backend.configure`:
compile mode and floatX), then builds the task (:mod:`rnnlab.tasks`), the layer stack
(:mod:`rnnlab.model.networks`, initialised from ``train.seed``) and the compiled functions
(:mod:`rnnlab.model.compile`), each once.  :func:`load_run`
rebuilds the session of a run directory and restores a checkpoint into it, so ``rnnlab.sample``
and ``rnnlab.forecast`` never read the training data they do not need; it reads and checks the
checkpoint file before compiling anything.

Everything a checkpoint holds goes through :mod:`rnnlab.training.state`:
:func:`~rnnlab.training.state.checkpoint_arrays` and :func:`~rnnlab.training.state.restore_arrays`
(named arrays), :func:`~rnnlab.training.state.random_state` and
:func:`~rnnlab.training.state.set_random_state` (the dropout generators, as JSON).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab import backend
from rnnlab.errors import ConfigError
from rnnlab.model.compile import compile_network
from rnnlab.model.networks import build_network
from rnnlab.nn import random as nn_random
from rnnlab.run import RunDir
from rnnlab.run.checkpoint import check_expected, load_checkpoint
from rnnlab.tasks import make_task
from rnnlab.training.state import expected_arrays, restore_arrays, set_random_state

__all__ = ["Session", "build_session", "build_run_session", "load_run"]


@dataclass
class Session:
    """Everything needed to train, evaluate or sample one model.

    Attributes
    ----------
    cfg : dict
        The resolved config.
    task : rnnlab.tasks.TextTask or rnnlab.tasks.SeriesTask
        The data and everything that depends on its kind.
    network : rnnlab.model.networks.Network
        The layer stack.
    functions : rnnlab.model.compile.Functions
        The compiled train / evaluate / predict functions and their shared variables.
    run_dir : pathlib.Path or None
        The run directory, when the session belongs to one.
    checkpoint : dict or None
        The metadata of the checkpoint restored by :func:`load_run` (step, epoch, ...).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> Session({}, SimpleNamespace(kind="text"), None, None).run_dir is None
    True
    """

    cfg: dict
    task: object
    network: object
    functions: object
    run_dir: Path = None
    checkpoint: dict = None


def _configure(cfg):
    device = cfg.device
    settings = backend.configure(device=device.device, mode=device.mode or None,
                                 floatX=device.floatX)
    if settings["mode"] == "JAX" and cfg.model.dropout > 0:
        # PyTensor's JAX backend draws from its own copy of a shared generator: the state a
        # checkpoint saved would not be the one the run used, and resuming would not be exact.
        raise ConfigError(f"model.dropout = {cfg.model.dropout!r}: dropout does not run "
                          "under the JAX backend (device gpu or mode JAX) yet; expected 0 there")
    return settings


def build_session(cfg, meta=None, meta_source="meta"):
    """Configure the backend, then build the task, the network and its compiled functions.

    Parameters
    ----------
    cfg : dict
        A resolved config (:func:`rnnlab.config.load`).
    meta : dict, optional
        A run's ``meta.json`` (see :func:`rnnlab.tasks.make_task`).
    meta_source : str
        What ``meta`` was read from, for error messages.

    Returns
    -------
    Session
        Parameters initialised from ``train.seed`` (the same seed gives the same initial values
        and dropout streams); nothing is written anywhere.

    Raises
    ------
    RnnlabError
        A :class:`~rnnlab.errors.BackendError` for an unusable device, a
        :class:`~rnnlab.errors.DataError` for unusable data.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> cfg = config.load(None, [f"data.path={path}", "data.seq_len=5", "train.batch_size=2",
    ...                          "model.hidden=4", "model.cell=elman", "data.val_fraction=0.2",
    ...                          "data.test_fraction=0.0"])
    >>> session = build_session(cfg)
    >>> x, y = session.task.train_batch(0, 0)
    >>> loss, grad_norm, state = session.functions.train(x, y, *session.functions.initial_states(2))
    >>> state.shape
    (2, 4)
    >>> tmp.cleanup()
    """
    _configure(cfg)
    task = make_task(cfg, meta, meta_source)
    previous = nn_random.get_rng()
    nn_random.set_rng(np.random.RandomState(cfg.train.seed))
    try:
        network = build_network(task, cfg.model)
    finally:
        nn_random.set_rng(previous)
    functions = compile_network(network, task.kind, cfg.train)
    return Session(cfg, task, network, functions)


def build_run_session(cfg, meta, run_dir):
    """:func:`build_session` for an existing run: errors in its metadata name its meta.json.

    Parameters
    ----------
    cfg : dict
        The run's resolved config.
    meta : dict
        Its ``meta.json``.
    run_dir : str or os.PathLike
        The run directory.

    Returns
    -------
    Session

    Examples
    --------
    >>> from rnnlab import config
    >>> cfg = config.load(None, ["data.path=unused.txt"], check_files=False)
    >>> build_run_session(cfg, {"kind": "series"}, "runs/x")
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: runs/x/meta.json describes a 'series' run; the config has ...
    """
    return build_session(cfg, meta, str(RunDir(run_dir).meta_file))


def load_run(run_dir, which="best"):
    """Rebuild a run's session and restore one of its checkpoints.

    The config comes from ``run_dir/config.json`` and the vocabulary or preprocessing from
    ``run_dir/meta.json``; a text run is rebuilt without reading its data file.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A directory written by ``python -m rnnlab.train``.
    which : {'best', 'latest'}
        The checkpoint to restore.

    Returns
    -------
    Session
        With ``run_dir`` set and ``checkpoint`` holding the checkpoint's metadata.

    Raises
    ------
    RnnlabError
        If the directory, its config, its metadata or the checkpoint is missing or does not
        match the model (:class:`~rnnlab.errors.CheckpointError`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> from rnnlab.training import train
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> summary = train(config.load(None, [
    ...     f"data.path={path}", f"run.dir={tmp.name}", "run.name=tiny", "data.seq_len=5",
    ...     "train.batch_size=2", "model.cell=elman", "model.hidden=4", "train.max_steps=1",
    ...     "train.eval_every=1", "run.sample_length=5", "run.progress=false"]),
    ...     out=lambda line: None)
    >>> path.unlink()  # a text run no longer needs its data
    >>> session = load_run(summary["run_dir"], which="latest")
    >>> session.run_dir.name, session.checkpoint["loop"]["step"], session.task.vocab.chars
    ('tiny', 1, ('a', 'b', 'c'))
    >>> x = session.task.vocab.encode("abc")[None, :]  # (batch, time) = (1, 3)
    >>> probs, state = session.functions.predict(x, *session.functions.initial_states(1))
    >>> probs.shape, state.shape  # (batch, time, vocabulary), (batch, hidden)
    ((1, 3, 3), (1, 4))
    >>> tmp.cleanup()
    """
    run = RunDir(run_dir).check()
    stem = run.check_checkpoint(which)
    cfg = run.load_config()
    meta = run.read_meta()
    run_dir = run.path
    arrays, checkpoint = load_checkpoint(stem)  # the file is checked before compiling
    session = build_run_session(cfg, meta, run_dir)
    check_expected(arrays, _loose(expected_arrays(session)), stem)
    restore_arrays(session, arrays)
    set_random_state(session, checkpoint.get("random_state", []))
    session.run_dir, session.checkpoint = run_dir, checkpoint
    return session


def _loose(expected):
    """Accept any batch size for the carried states (the rows are not part of the model)."""
    return {name: (((None,) + tuple(shape[1:])) if name.startswith("state/") else shape, dtype)
            for name, (shape, dtype) in expected.items()}
