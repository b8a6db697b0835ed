"""Refitting a finished run on all of its data: the same config, the same number of steps.

A run is trained on its training part and stopped (or its best checkpoint chosen) by its
validation part; to forecast past the end of the data, the newest rows matter most.  A refit
trains the run's model again, from the same seed, on every row (``data.val_fraction`` and
``data.test_fraction`` 0, no date splits), for as many steps as the run's checkpoint had
taken, and keeps its last parameters (a run without a validation part has its ``best``
checkpoint at its latest; :mod:`rnnlab.training.loop`).  It is a run directory of its own,
``<run>/refit-<steps>``, so it is trained once: a later refit of the same run and checkpoint
reuses it, and one that was stopped is resumed.
"""

from rnnlab.errors import RnnlabError
from rnnlab.run import RunDir
from rnnlab.training.loop import train
from rnnlab.training.session import load_run

__all__ = ["refit", "refit_config", "refit_name"]


def refit_name(steps):
    """The refit's directory name inside the run: ``refit-<steps>``.

    Examples
    --------
    >>> refit_name(1350)
    'refit-1350'
    """
    return f"refit-{int(steps)}"


def refit_config(cfg, steps, run_dir):
    """The config of a refit: ``cfg`` on all the data for ``steps`` steps, inside ``run_dir``.

    Parameters
    ----------
    cfg : rnnlab.config.Config
        The finished run's config.
    steps : int
        Training steps (the step of the run's checkpoint); the only budget.
    run_dir : str or os.PathLike
        The finished run's directory, which will hold the refit.

    Returns
    -------
    rnnlab.config.Config
        No validation or test part, ``train.max_steps = steps`` and no other budget or early
        stopping, ``run.dir = run_dir`` and ``run.name =`` :func:`refit_name`.

    Examples
    --------
    >>> from rnnlab.config import Config
    >>> cfg = refit_config(Config().replace(train={"patience": 3}), 400, "runs/a")
    >>> cfg.data.val_fraction, cfg.data.test_fraction, cfg.train.max_steps, cfg.train.patience
    (0.0, 0.0, 400, 0)
    >>> cfg.run.dir, cfg.run.name
    ('runs/a', 'refit-400')
    """
    return cfg.replace(
        data={"val_fraction": 0.0, "test_fraction": 0.0, "val_start": "", "test_start": ""},
        train={"max_steps": int(steps), "max_epochs": 0, "time_budget": 0.0, "patience": 0},
        run={"dir": str(run_dir), "name": refit_name(steps)})


def refit(session, out=print):
    """Refit a loaded run on all its data (or reuse its refit) and load the refitted model.

    Parameters
    ----------
    session : rnnlab.training.session.Session
        A finished run's session from :func:`~rnnlab.training.session.load_run`; the step of
        its checkpoint is the refit's number of steps.
    out : callable
        Receives the training lines of a refit that trains (nothing when one is reused).

    Returns
    -------
    rnnlab.training.session.Session
        The refitted model (its last parameters), with ``run_dir`` ``<run>/refit-<steps>``.

    Raises
    ------
    RnnlabError
        For a checkpoint at step 0 (nothing trained to repeat), or a refit directory that is
        not a refit of this run (a one-line error naming it).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> refit(SimpleNamespace(run_dir="runs/a", checkpoint={"loop": {"step": 0}}))
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: runs/a: its checkpoint is at step 0; a refit repeats the steps ...
    """
    steps = int(((session.checkpoint or {}).get("loop") or {}).get("step") or 0)
    if steps < 1:
        raise RnnlabError(f"{session.run_dir}: its checkpoint is at step 0; a refit repeats the "
                          "steps a trained checkpoint took")
    cfg = refit_config(session.cfg, steps, session.run_dir)
    target = RunDir(session.run_dir).path / cfg.run.name
    if not target.exists():
        summary = train(cfg, out=out)
    else:
        run = RunDir(target).check()
        # run.dir is where the run was when the refit was made: it may since have moved.
        if _without_dir(run.load_config()) != _without_dir(cfg):
            raise RnnlabError(f"{target}: not a refit of {session.run_dir} with its config; "
                              "expected the folder that rnnlab.forecast --refit made (remove it "
                              "to refit again)")
        summary = run.read_summary() if run.finished() else {}
        if summary.get("steps") != steps and not summary.get("diverged"):
            # resumed from its latest checkpoint, in the run directory's place today
            summary = train(cfg.replace(run={"dir": str(RunDir(session.run_dir).path)}),
                            run_dir=target, out=out)
    if summary.get("diverged"):
        raise RnnlabError(f"{target}: the refit diverged at step {summary['diverged']['step']} "
                          f"({summary['diverged']['reason']}); it is not used (remove the folder "
                          "to refit again, perhaps with train.on_divergence = 'halve' in the "
                          "run's config)")
    return load_run(target, which="latest")


def _without_dir(cfg):
    """The config as a dict without ``run.dir``."""
    record = cfg.to_dict()
    record["run"].pop("dir")
    return record
