"""rnnlab.training.session: seeded builds, checkpoint arrays that restore a trajectory, load_run."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from rnnlab import config
from rnnlab.errors import CheckpointError, RnnlabError
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.training.session import build_session, load_run
from rnnlab.training.state import (checkpoint_arrays, expected_arrays, random_state,
                                   restore_arrays, set_random_state)

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"


def _series_cfg(*overrides):
    return config.load(EXPERIMENTS / "smoke_series.toml",
                       [f"data.path={ROOT / 'data' / 'airline_passengers.csv'}", *overrides])


def test_build_is_seeded_and_leaves_the_global_generator_alone(monkeypatch):
    import rnnlab.model.compile
    from rnnlab.nn import random as nn_random

    monkeypatch.setattr(rnnlab.model.compile, "compile_network", lambda net, kind, cfg: None)
    before = nn_random.get_rng()

    def values(seed):
        session = build_session(_series_cfg(f"train.seed={seed}"))
        from rnnlab.nn.layers import get_all_params
        return {p.name: p.get_value() for p in get_all_params(session.network.output)}

    first, again, other = values(1), values(1), values(2)
    assert nn_random.get_rng() is before
    assert sorted(first) == sorted(other) and "rec0.W_in_to_ingate" in first
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not all(np.array_equal(first[k], other[k]) for k in first if first[k].any())


def _trajectory(session, steps):
    """Losses and final parameters of ``steps`` training steps from the current state."""
    losses = []
    for index in range(steps):
        x, y = session.task.train_batch(0, index)
        losses.append(session.functions.train(x, y)[0].tobytes())
    return losses, {k: v.tobytes() for k, v in checkpoint_arrays(session, []).items()}


def test_checkpoint_arrays_and_random_state_restore_a_trajectory_bitwise():
    session = build_session(_series_cfg("model.dropout=0.3", "model.layers=2",
                                        "model.cell=elman"))
    assert len(session.functions.random_state) > 0
    x, y = session.task.train_batch(0, 0)
    session.functions.train(x, y)  # move the optimizer state away from its zeros
    arrays, generators = checkpoint_arrays(session, []), random_state(session)
    names = sorted(arrays)
    assert "param/rec1.W_hid_to_hid" in names and "param/out.b" in names
    assert "opt/adam.t" in names and not any(n.startswith("state/") for n in names)
    expected = expected_arrays(session)
    assert expected.pop("opt/adam.t") == ((), None)   # counters: restore_arrays checks them
    assert {n: (a.shape, a.dtype) for n, a in arrays.items() if n != "opt/adam.t"} == expected

    first = _trajectory(session, 3)
    assert restore_arrays(session, arrays) == []
    set_random_state(session, generators)
    assert _trajectory(session, 3) == first
    restore_arrays(session, arrays)  # without the generators the dropout masks differ
    assert _trajectory(session, 3)[0] != first[0]

    bad = dict(arrays, **{"param/out.b": np.zeros(3, np.float32)})
    current = checkpoint_arrays(session, [])
    with pytest.raises(CheckpointError, match="param/out.b"):
        restore_arrays(session, bad)
    with pytest.raises(CheckpointError, match="optimizer state"):
        restore_arrays(session, {k: v for k, v in arrays.items() if k != "opt/adam.t"})
    after = checkpoint_arrays(session, [])
    assert all(np.array_equal(current[k], after[k]) for k in current)  # nothing changed
    with pytest.raises(CheckpointError, match="generator"):
        set_random_state(session, generators[:1])


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from rnnlab.training import train

    root = tmp_path_factory.mktemp("session")
    data = root / "corpus.txt"
    shutil.copy(ROOT / "data" / "shakespeare.txt", data)
    cfg = config.load(EXPERIMENTS / "smoke_text.toml",
                      [f"data.path={data}", f"run.dir={root}", "run.name=lm",
                       "train.max_steps=4", "train.eval_every=2", "model.cell=gru"])
    run = Path(train(cfg, out=lambda line: None)["run_dir"])
    data.unlink()  # sampling must not need the data file
    return run


@pytest.mark.parametrize("which", ["best", "latest"])
def test_load_run_restores_a_checkpoint_without_the_data_file(text_run, which):
    from rnnlab.tasks.sampling import generate

    session = load_run(text_run, which)
    arrays, meta = load_checkpoint(text_run / "checkpoints" / which)
    assert session.run_dir == text_run and session.checkpoint["loop"]["step"] == meta["loop"]["step"]
    assert session.cfg.model.cell == "gru"
    for param in session.functions.params:
        np.testing.assert_array_equal(param.get_value(), arrays[f"param/{param.name}"])
    text = generate(session, length=25, prime="KING", seed=1)
    assert len(text) == 29 and set(text) <= set(session.task.vocab.chars)
    assert generate(session, length=25, prime="KING", seed=1) == text


def test_load_run_errors_name_the_problem(text_run, tmp_path):
    with pytest.raises(RnnlabError, match="no such run directory"):
        load_run(tmp_path / "missing")
    with pytest.raises(ValueError, match="which='worst'"):
        load_run(text_run, "worst")
    copy = tmp_path / "copy"
    shutil.copytree(text_run, copy)
    (copy / "checkpoints" / "best.json").unlink()
    with pytest.raises(CheckpointError, match="no 'best' checkpoint"):
        load_run(copy, "best")
