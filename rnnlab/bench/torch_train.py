"""``python -m rnnlab.bench.torch_train``: a text run config's model trained in PyTorch.

The baseline of the results pages: the model ``python -m rnnlab.train`` builds from the same
config (:func:`rnnlab.model.networks.build_char_lm`), trained on the same batches for the same
budget, so its validation and test losses compare with a run's ``summary.json``:

* one-hot input (``model.embedding = 0``) or ``nn.Embedding`` (normal, std 1) -> ``model.layers``
  ``nn.RNN(nonlinearity='tanh')`` / ``nn.LSTM`` / ``nn.GRU`` layers, each followed by dropout
  when ``model.dropout > 0`` -> ``nn.Linear`` at every step; rnnlab's initialisation (Glorot
  uniform input weights and orthogonal recurrent weights per gate, zero biases, the LSTM's forget
  bias 1, a Glorot-uniform output layer) and rnnlab's single bias per gate (PyTorch's second,
  ``bias_hh``, is held at zero, as in :mod:`rnnlab.bench.torch_runner`);
* the batches of :class:`rnnlab.tasks.TextTask` (``train.batch_size`` streams of
  ``data.seq_len`` characters, the state carried across batches and reset each epoch), its
  evaluation (:meth:`~rnnlab.tasks.TextTask.evaluate`, ``train.eval_batches``), the learning
  rate of :func:`rnnlab.training.loop.lr_at`, the gradient norm clipped to
  ``train.max_grad_norm``;
* ``train.optimizer`` computed as rnnlab's update rules compute it: PyTorch's SGD, and
  Lasagne's momentum and Nesterov (velocity ``v = 0.9 v - lr g``), Adagrad and RMSprop (rho 0.9;
  epsilon 1e-6 inside the square root, where PyTorch's own add it outside: tens of times larger
  steps for small gradients) and Adam (betas 0.9 and 0.999, epsilon 1e-8, the bias correction in
  the step size) written out;
* a run stops as rnnlab's does when the loss or the gradient norm is not finite or the loss
  exceeds ``train.explode_factor`` times the first (``train.on_divergence = "halve"`` is
  refused);
* the budgets ``train.max_steps``, ``train.max_epochs``, ``train.time_budget`` (seconds of training
  steps, evaluation not counted) and ``train.patience``; the test loss is measured with the
  parameters of the best validation loss (the last ones without a validation part).

Per-step gradient clipping (``model.grad_clipping``) and truncated gradients
(``model.gradient_steps``) have no PyTorch counterpart and are refused, as are configs for the
GPU or float64 (the baseline trains float32 on the CPU).  PyTorch is an optional
dependency (``pip install -r requirements-bench.txt``); without it the command says so in one
line (exit code 2).
"""

import argparse
import copy
import math
import os
import sys
import time

from pathlib import Path

import numpy as np

from rnnlab import config
from rnnlab.bench.measure import cpu_count
from rnnlab.bench.torch_runner import torch_available
from rnnlab.commands.cli import Once, add_common_arguments, console_script
from rnnlab.errors import BackendError, ConfigError
from rnnlab.files import atomic_write_json
from rnnlab.tasks import TextTask
from rnnlab.training.loop import divergence, lr_at

__all__ = ["train_in_torch", "main", "cli"]

#: Gates per cell, in PyTorch's stacking order (the LSTM's forget gate is the second).
GATES = {"elman": 1, "lstm": 4, "gru": 3}
#: The most threads ``--threads`` takes.
MAX_THREADS = 1024


def _check(cfg):
    if cfg.data.kind != "text":
        raise ConfigError(f"data.kind = {cfg.data.kind!r}: the PyTorch baseline trains "
                          f"character models only (expected 'text')")
    if cfg.model.grad_clipping or cfg.model.gradient_steps != -1:
        raise ConfigError("model.grad_clipping and model.gradient_steps have no PyTorch "
                          "counterpart: expected 0.0 and -1")
    if cfg.device.device != "cpu" or cfg.device.floatX != "float32":
        raise ConfigError(f"device.device = {cfg.device.device!r}, device.floatX = "
                          f"{cfg.device.floatX!r}: the PyTorch baseline trains float32 on the "
                          f"CPU (expected 'cpu' and 'float32')")
    if cfg.train.on_divergence != "stop":
        raise ConfigError(f"train.on_divergence = {cfg.train.on_divergence!r}: the PyTorch "
                          f"baseline stops where a run diverges (expected 'stop')")
    if not torch_available():
        raise BackendError("PyTorch is not installed: pip install -r requirements-bench.txt "
                           "(the optional benchmark dependency)")


def _import_torch():
    try:
        import torch
    except ImportError as err:      # installed, but broken
        raise BackendError(f"PyTorch does not import: {err}") from None
    return torch


def _optimizer(torch, params, name, lr):
    """``train.optimizer`` as rnnlab's update rules compute it (:mod:`rnnlab.nn.updates`)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)

    class LasagneRule(torch.optim.Optimizer):
        """Momentum and Nesterov with Lasagne's velocity (``v = 0.9 v - lr g``, each past step
        at its own rate); Adagrad and RMSprop with epsilon inside the square root; Adam with
        the bias correction in the step size (PyTorch's scales epsilon by it instead)."""

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                lr = group["lr"]
                group["t"] = group.get("t", 0) + 1
                for p in group["params"]:
                    g, state = p.grad, self.state[p]
                    if not state:                  # the first step: zero accumulators
                        state.update({slot: torch.zeros_like(p)
                                      for slot in ("acc", "m")[:2 if name == "adam" else 1]})
                    acc = state["acc"]
                    if name == "adam":
                        m = state["m"]
                        m.mul_(0.9).add_(g, alpha=0.1)
                        acc.mul_(0.999).addcmul_(g, g, value=0.001)
                        a_t = lr * math.sqrt(1 - 0.999 ** group["t"]) / (1 - 0.9 ** group["t"])
                        p.addcdiv_(m, acc.sqrt().add_(1e-8), value=-a_t)
                        continue
                    if name in ("momentum", "nesterov"):
                        acc.mul_(0.9).add_(g, alpha=-lr)
                        if name == "momentum":
                            p.add_(acc)
                        else:
                            p.add_(acc, alpha=0.9).add_(g, alpha=-lr)
                        continue
                    if name == "adagrad":
                        acc.addcmul_(g, g)
                    else:
                        acc.mul_(0.9).addcmul_(g, g, value=0.1)
                    p.addcdiv_(g, (acc + 1e-6).sqrt(), value=-lr)

    return LasagneRule(params, {"lr": lr})


def _model(torch, model_cfg, vocab_size):
    """The char LM of the config, initialised as rnnlab initialises it."""
    nn = torch.nn
    cell, hidden, layers = model_cfg.cell, model_cfg.hidden, model_cfg.layers
    width = model_cfg.embedding or vocab_size
    between = model_cfg.dropout if layers > 1 else 0.0
    recurrent = {"elman": lambda: nn.RNN(width, hidden, layers, nonlinearity="tanh",
                                         batch_first=True, dropout=between),
                 "lstm": lambda: nn.LSTM(width, hidden, layers, batch_first=True,
                                         dropout=between),
                 "gru": lambda: nn.GRU(width, hidden, layers, batch_first=True,
                                       dropout=between)}[cell]

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, width) if model_cfg.embedding else None
            self.rnn = recurrent()        # dropout between its layers ...
            self.drop = nn.Dropout(model_cfg.dropout)   # ... and after the last
            self.out = nn.Linear(hidden, vocab_size)

        def forward(self, ids, states):
            x = (self.embed(ids) if self.embed is not None
                 else nn.functional.one_hot(ids, vocab_size).float())
            h, states = self.rnn(x, states)
            return self.out(self.drop(h)), states

    model = CharLM()
    gates = GATES[cell]
    with torch.no_grad():
        if model.embed is not None:
            nn.init.normal_(model.embed.weight, std=1.0)
        for layer in range(layers):
            w_ih, w_hh = (getattr(model.rnn, f"weight_{k}_l{layer}") for k in ("ih", "hh"))
            for g in range(gates):         # rnnlab's (in, out) blocks, transposed
                for weight, fill in ((w_ih, nn.init.xavier_uniform_), (w_hh, nn.init.orthogonal_)):
                    block = torch.empty(weight.shape[1], hidden)
                    weight[g * hidden:(g + 1) * hidden] = fill(block).T
            b_ih, b_hh = (getattr(model.rnn, f"bias_{k}_l{layer}") for k in ("ih", "hh"))
            b_ih.zero_()
            b_hh.zero_()
            b_hh.requires_grad_(False)
            if cell == "lstm":
                b_ih[hidden:2 * hidden] = 1.0
        nn.init.xavier_uniform_(model.out.weight)
        model.out.bias.zero_()
    return model


class _Functions:
    """What :meth:`rnnlab.tasks.TextTask.evaluate` calls, on the PyTorch model."""

    def __init__(self, torch, model, cfg):
        self.torch, self.model, self.cfg = torch, model, cfg

    def initial_states(self, batch_size):
        zeros = self.torch.zeros(self.cfg.model.layers, batch_size, self.cfg.model.hidden)
        return [(zeros, zeros.clone())] if self.cfg.model.cell == "lstm" else [zeros]

    def logits(self, x, states):
        return self.model(self.torch.from_numpy(np.asarray(x, dtype=np.int64)), states[0])

    def loss(self, logits, y):
        targets = self.torch.from_numpy(np.asarray(y, dtype=np.int64)).reshape(-1)
        return self.torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                      targets)

    def evaluate(self, x, y, *states):
        with self.torch.no_grad():
            logits, finals = self.logits(x, states)
            return [float(self.loss(logits, y)), finals]


def _detached(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def train_in_torch(cfg, threads=None, out=print):
    """Train the config's character model in PyTorch; return its scores and throughput.

    Parameters
    ----------
    cfg : rnnlab.config.Config
        A resolved text config (as :func:`rnnlab.config.load` returns it).
    threads : int, optional
        PyTorch's threads; by default one per core this process may use.
    out : callable
        Receives a line per evaluation (``step N val_loss ... val_bpc ... (T s)``).

    Returns
    -------
    dict
        ``framework`` (PyTorch's version), ``threads``, ``stop_reason``, ``steps``, ``epochs``,
        ``wall_time`` (seconds of training steps), ``chars_per_s``, ``n_params`` (trained),
        ``best`` (``step``, ``val_loss`` in nats/char, ``val_bpc``), ``test`` (``loss``, ``bpc``
        under the best parameters, or None without a test part).

    Raises
    ------
    rnnlab.errors.BackendError
        PyTorch is not installed.
    rnnlab.errors.ConfigError
        Not a text config, or one with per-step clipping or truncated gradients.

    Examples
    --------
    The config is checked before PyTorch is imported (the tests train with it):

    >>> train_in_torch(config.load("experiments/shakespeare_lstm.toml",
    ...                            ["model.gradient_steps=20"]))
    Traceback (most recent call last):
    rnnlab.errors.ConfigError: model.grad_clipping and model.gradient_steps have no PyTorch counterpart: expected 0.0 and -1
    """
    _check(cfg)
    torch = _import_torch()
    threads = threads or cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(cfg.train.seed)
    task = TextTask(cfg)
    tcfg = cfg.train
    model = _model(torch, cfg.model, task.vocab.size)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = _optimizer(torch, trained, tcfg.optimizer, lr_at(tcfg, 0))
    fns = _Functions(torch, model, cfg)
    n_batches, validated = task.batches_per_epoch(), task.has_split("val")
    step = epoch = index = bad_evals = 0
    wall_time, first_loss, last_eval, best, best_params = 0.0, None, None, None, None

    def evaluate(scheduled):
        """Evaluate and log; whether the validation loss is finite."""
        nonlocal best, best_params, bad_evals, last_eval
        model.eval()
        found = task.evaluate(fns, "val")
        model.train()
        last_eval = step
        reason = divergence(found["loss"], 0.0, None, 0.0, which="validation loss")
        if reason:
            out(f"step {step}: {reason}")
            return False
        improved = best is None or found["loss"] < best["val_loss"]
        if improved:
            best = {"step": step, "val_loss": found["loss"], "val_bpc": found["bpc"]}
            best_params = copy.deepcopy(model.state_dict())
        if scheduled:
            bad_evals = 0 if improved else bad_evals + 1
        out(f"step {step} epoch {epoch} val_loss {found['loss']:.4g} val_bpc "
            f"{found['bpc']:.4g} ({wall_time:.1f} s){' *' if improved else ''}")
        return True

    model.train()
    while True:
        stop = ("max_steps" if tcfg.max_steps and step >= tcfg.max_steps
                else "max_epochs" if tcfg.max_epochs and epoch >= tcfg.max_epochs
                else "time_budget" if tcfg.time_budget and wall_time >= tcfg.time_budget
                else None)
        if stop is not None:
            break
        if index == 0:
            states = fns.initial_states(tcfg.batch_size)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(tcfg, step)
        started = time.perf_counter()
        x, y = task.train_batch(epoch, index)
        loss, gnorm, states = _train_step(torch, fns, optimizer, trained, x, y, states,
                                          tcfg.max_grad_norm)
        wall_time += time.perf_counter() - started
        reason = divergence(loss, gnorm, first_loss, tcfg.explode_factor)
        if reason:
            out(f"step {step + 1}: {reason}")
            stop = "diverged"
            break
        first_loss = loss if first_loss is None else first_loss
        step, index = step + 1, index + 1
        if index == n_batches:
            epoch, index = epoch + 1, 0
        if validated and step % tcfg.eval_every == 0:
            if not evaluate(scheduled=True):
                stop = "diverged"
                break
            if tcfg.patience and bad_evals >= tcfg.patience:
                stop = "early_stopping"
                break
    if validated and last_eval != step and stop != "diverged" and not evaluate(scheduled=False):
        stop = "diverged"
    test = None
    if task.has_split("test") and (best_params is not None or not validated):
        if best_params is not None:
            model.load_state_dict(best_params)
        model.eval()
        test = {k: v for k, v in task.evaluate(fns, "test").items() if k in ("loss", "bpc")}
    items, _ = task.step_items()
    return {"framework": f"pytorch {torch.__version__}", "threads": threads,
            "stop_reason": stop, "steps": step, "epochs": epoch + index / n_batches,
            "wall_time": wall_time, "chars_per_s": step * items / wall_time if wall_time else 0.0,
            "n_params": sum(p.numel() for p in trained), "best": best, "test": test}


def _train_step(torch, fns, optimizer, trained, x, y, states, max_grad_norm):
    """One update of the ``trained`` parameters on a batch, the states carried: ``(loss,
    gradient norm, new states)``.

    The gradient norm is the one before clipping (to ``max_grad_norm``, when above 0), as
    rnnlab's ``train`` function reports it.
    """
    logits, finals = fns.logits(x, states)
    loss = fns.loss(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(trained, max_grad_norm if max_grad_norm > 0
                                           else math.inf)
    optimizer.step()
    return loss.item(), float(gnorm), [_detached(finals)]


def main(argv=None):
    """Train a config's model in PyTorch; print a line per evaluation, then the summary.

    Parameters
    ----------
    argv : list of str, optional
        ``--config PATH [section.key=value ...] [--threads N] [--json PATH]``;
        ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 once trained (errors are raised: :func:`rnnlab.commands.cli.run_command` makes them
        one line and exit code 2).

    Examples
    --------
    >>> main(["--config", "experiments/airline_lstm.toml"])
    Traceback (most recent call last):
    rnnlab.errors.ConfigError: data.kind = 'series': the PyTorch baseline trains character models only (expected 'text')
    """
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.bench.torch_train",
        description="Train a text run config's model in PyTorch (the results pages' baseline): "
                    "same model, batches, evaluation and budget as python -m rnnlab.train.",
        epilog="example:\n  python -m rnnlab.bench.torch_train --config "
               "experiments/shakespeare_lstm.toml train.time_budget=600\n\n"
               "exit codes: 0 trained; 2 PyTorch missing, bad arguments or an unusable config "
               "(one line on stderr).", formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--config", required=True, action=Once, help="TOML run config")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch's threads (default: one per core)")
    parser.add_argument("--json", metavar="PATH", help="also write the summary there")
    args = parser.parse_args(argv)
    if args.threads is not None and not 1 <= args.threads <= MAX_THREADS:
        parser.error(f"--threads {args.threads}: expected 1 to {MAX_THREADS}")
    cfg = config.load(args.config, args.overrides)
    _check_new(args.json)
    summary = train_in_torch(cfg, threads=args.threads)     # checks cfg first
    best, test = summary["best"], summary["test"]
    threads = summary["threads"]
    print(f"{summary['framework']}, {threads} thread{'' if threads == 1 else 's'}: "
          f"{summary['steps']} steps in "
          f"{summary['wall_time']:.1f} s ({summary['chars_per_s']:.0f} chars/s), stopped by "
          f"{summary['stop_reason']}"
          + (f"; best validation {best['val_bpc']:.4f} bits/char at step {best['step']}"
             if best else "; no validation part")
          + (f", test {test['bpc']:.4f} bits/char" if test else ""))
    if args.json:                          # refused if the path appeared during training
        atomic_write_json(args.json, summary, replace=False)
    return 0


def _check_new(path):
    """Refuse an existing (or unusable) ``--json`` path in one line: nothing is overwritten."""
    if not path:
        return
    try:
        os.lstat(path)
        problem = "the file exists; expected a new path (nothing is overwritten)"
    except FileNotFoundError:
        if Path(path).parent.is_dir():
            return
        problem = "no such folder; expected a path to a new file in an existing folder"
    except OSError as err:
        problem = f"{err.strerror or err}; expected a path to a new file"
    raise ConfigError(f"--json {path}: {problem}")


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
