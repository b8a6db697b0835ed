"""python -m rnnlab.bench.torch_train: the config's model in PyTorch, on rnnlab's batches, learns;
rnnlab's initialisation; what has no PyTorch counterpart, a missing PyTorch or an existing
--json path is one line, exit 2."""

import json
import math

import numpy as np
import pytest

from rnnlab import config
from rnnlab.bench import torch_train
from rnnlab.bench.torch_runner import torch_available
from rnnlab.commands.cli import run_command
from rnnlab.tasks import TextTask

needs_torch = pytest.mark.skipif(not torch_available(), reason="PyTorch is not installed")
SMALL = ["data.max_chars=60000", "data.seq_len=32", "train.batch_size=8", "train.time_budget=0",
         "train.eval_batches=4", "model.hidden=32"]


def _cfg(*overrides):
    return config.load("experiments/shakespeare_lstm.toml", SMALL + list(overrides))


@needs_torch
@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_each_cell_learns_on_rnnlabs_batches(cell):
    cfg = _cfg(f"model.cell={cell}", "train.max_steps=60", "train.eval_every=30",
               "model.layers=2", "model.dropout=0.1", "model.embedding=16")
    lines = []
    summary = torch_train.train_in_torch(cfg, threads=1, out=lines.append)
    vocab = TextTask(cfg).vocab.size
    assert summary["steps"] == 60 and summary["stop_reason"] == "max_steps"
    assert [line.split()[1] for line in lines] == ["30", "60"]
    assert summary["epochs"] == pytest.approx(60 / TextTask(cfg).batches_per_epoch())
    assert summary["best"]["val_loss"] < 0.85 * math.log(vocab)          # uniform: log V
    assert summary["best"]["val_bpc"] == pytest.approx(summary["best"]["val_loss"] / math.log(2))
    assert summary["test"]["loss"] < 0.85 * math.log(vocab)
    assert summary["chars_per_s"] > 0 and summary["wall_time"] > 0


@needs_torch
def test_the_time_budget_counts_training_steps_and_the_best_parameters_are_tested():
    cfg = _cfg("train.time_budget=1.5", "train.eval_every=10", "train.max_steps=0")
    summary = torch_train.train_in_torch(cfg, threads=1, out=lambda line: None)
    assert summary["stop_reason"] == "time_budget" and 1.5 <= summary["wall_time"] < 3
    assert summary["best"]["step"] <= summary["steps"]


@needs_torch
def test_the_model_starts_from_rnnlabs_initialisation():
    import torch

    cfg = _cfg("model.layers=2", "model.embedding=16")
    model = torch_train._model(torch, cfg.model, vocab_size=40)
    hidden = cfg.model.hidden
    for layer in range(2):
        w_hh = getattr(model.rnn, f"weight_hh_l{layer}").detach().numpy()
        for g in range(4):
            block = w_hh[g * hidden:(g + 1) * hidden]
            np.testing.assert_allclose(block @ block.T, np.eye(hidden), atol=1e-5)
        b_ih = getattr(model.rnn, f"bias_ih_l{layer}").detach().numpy()
        b_hh = getattr(model.rnn, f"bias_hh_l{layer}")
        assert not b_hh.requires_grad and not b_hh.detach().numpy().any()
        assert (b_ih[hidden:2 * hidden] == 1).all() and not np.delete(
            b_ih, np.s_[hidden:2 * hidden]).any()                         # forget bias 1
        w_ih = getattr(model.rnn, f"weight_ih_l{layer}").detach().numpy()
        bound = math.sqrt(6 / ((16 if layer == 0 else hidden) + hidden))  # Glorot, per gate
        for g in range(4):
            assert 0.9 * bound < abs(w_ih[g * hidden:(g + 1) * hidden]).max() <= bound
    out = model.out.weight.detach().numpy()
    assert 0.9 * math.sqrt(6 / (hidden + 40)) < abs(out).max() <= math.sqrt(6 / (hidden + 40))
    assert not model.out.bias.detach().numpy().any()
    assert model.embed.weight.detach().numpy().std() == pytest.approx(1.0, abs=0.15)


@needs_torch
@pytest.mark.parametrize("cell, optimizer", [
    ("lstm", "sgd"), ("lstm", "momentum"), ("lstm", "nesterov"), ("lstm", "adagrad"),
    ("lstm", "rmsprop"), ("lstm", "adam"), ("gru", "rmsprop"), ("elman", "adam")])
def test_from_rnnlabs_parameters_three_steps_match_rnnlabs(cell, optimizer):
    """The same model, loss, clipping and update rule: rnnlab's compiled ``train`` and the
    PyTorch step agree on the losses, gradient norms and parameters."""
    import torch

    from rnnlab.bench.torch_runner import torch_weights
    from rnnlab.training.loop import lr_at
    from rnnlab.training.session import build_session

    cfg = _cfg(f"model.cell={cell}", f"train.optimizer={optimizer}", "model.embedding=8",
               "model.hidden=8", "train.lr=0.05", "train.lr_decay=0.5", "train.lr_decay_every=2",
               "train.max_grad_norm=1.0")
    session = build_session(cfg)
    fns = session.functions
    model = torch_train._model(torch, cfg.model, session.task.vocab.size)
    start = torch_weights({p.name: p.get_value() for p in fns.params}, cell)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32))
                           for k, v in start.items()})
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch_train._optimizer(torch, trained, optimizer, cfg.train.lr)
    ours = torch_train._Functions(torch, model, cfg)
    states, torch_states = fns.initial_states(8), ours.initial_states(8)
    for step in range(3):
        x, y = session.task.train_batch(0, step)
        fns.lr.set_value(np.asarray(lr_at(cfg.train, step), dtype=fns.lr.dtype))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(cfg.train, step)
        outputs = fns.train(x, y, *states)
        states = list(outputs[2:])
        loss, gnorm, torch_states = torch_train._train_step(
            torch, ours, optimizer, trained, x, y, torch_states, cfg.train.max_grad_norm)
        assert loss == pytest.approx(float(outputs[0]), rel=1e-5)
        assert gnorm == pytest.approx(float(outputs[1]), rel=1e-4)
    after = torch_weights({p.name: p.get_value() for p in fns.params}, cell)
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value.numpy(), after[name], rtol=1e-3, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("overrides, named", [
    (["model.grad_clipping=1.0"], "model.grad_clipping"),
    (["model.gradient_steps=10"], "model.gradient_steps"),
    (["device.floatX=float64"], "device.floatX"),
    (["device.device=gpu"], "device.device"),
    (["train.on_divergence=halve"], "train.on_divergence"),
    (["--threads", "0"], "--threads 0"),
    (["--threads", "2147483648"], "--threads 2147483648"),
    (["--json", "/nonexistent-folder/x.json"], "--json /nonexistent-folder/x.json"),
    (["--json", "x" * 300 + ".json"], "--json xxx")])
def test_what_pytorch_cannot_train_is_a_one_line_error(capsys, overrides, named):
    """Checked before PyTorch is looked for: the same line with or without it."""
    with pytest.raises(SystemExit) as exit:
        run_command(torch_train.main, ["--config", "experiments/shakespeare_lstm.toml", *SMALL,
                                       "train.max_steps=2"] + overrides)
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and err[0].startswith("error:")


def test_a_series_config_or_a_missing_pytorch_is_a_one_line_error(capsys, monkeypatch):
    for argv, named in ((["--config", "experiments/airline_lstm.toml"], "data.kind"),
                        (["--config", "experiments/shakespeare_lstm.toml"], "PyTorch")):
        if named == "PyTorch":
            monkeypatch.setattr(torch_train, "torch_available", lambda: False)
        with pytest.raises(SystemExit) as exit:
            run_command(torch_train.main, argv)
        assert exit.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and named in err[0] and err[0].startswith("error:")


@needs_torch
def test_the_summary_goes_to_a_new_json_file_never_over_one(capsys, tmp_path):
    path = tmp_path / "torch.json"
    argv = ["--config", "experiments/shakespeare_lstm.toml", *SMALL, "train.max_steps=4",
            "train.eval_every=2", "--threads", "1", "--json", str(path)]
    assert run_command(torch_train.main, argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("pytorch ") and "1 thread: 4 steps" in out[-1]
    summary = json.loads(path.read_text())
    assert summary["steps"] == 4 and summary["best"]["step"] in (2, 4)
    path.write_text("mine")
    with pytest.raises(SystemExit) as exit:
        run_command(torch_train.main, argv)
    assert exit.value.code == 2 and path.read_text() == "mine"
    assert "exists" in capsys.readouterr().err
