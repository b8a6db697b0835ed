"""PyTorch's side of the benchmark: the same character LM, written the way a PyTorch user would.

``nn.Embedding`` -> ``nn.RNN(nonlinearity='tanh')`` / ``nn.LSTM`` / ``nn.GRU`` (``batch_first``)
-> ``nn.Linear``; ``F.cross_entropy``; ``torch.optim.SGD``; the hidden state carried from step to
step and detached (truncated BPTT); ``torch.set_num_threads`` set to the cores this process may
use (``--torch-threads`` changes it: on a busy machine, or at batch 1, one thread can be many times
faster than two, whose threads wait on each other).  PyTorch is an optional benchmark dependency
(``pip install rnnlab[bench]``), imported only when a :class:`TorchRunner` is built.

The parameters are copied from rnnlab's (:func:`torch_weights`), so all frameworks start from the
same values and compute the same losses.  The layouts differ:

* PyTorch keeps weights as ``(out, in)``: rnnlab's ``W`` ``(in, out)`` is transposed;
* the LSTM's gates are stacked in the same order (input, forget, cell, output); the GRU's as
  reset, update, new, like rnnlab's resetgate, updategate, hidden_update;
* both GRUs apply the reset gate after the hidden matmul, ``tanh(x W_xc + r * (h W_hc) + b)``,
  but PyTorch's update gate ``z`` weighs the *old* state, ``h' = (1 - z) n + z h``, where rnnlab's
  ``u`` weighs the candidate, ``h' = (1 - u) h + u c``: ``z = 1 - u = sigmoid(-a_u)``, so the
  update gate's weights and bias are negated;
* PyTorch has two biases per gate (``bias_ih``, ``bias_hh``); rnnlab's bias goes to ``bias_ih``
  and ``bias_hh`` is held at zero, not trained: trained, it would double the biases' effective
  learning rate (both get the same gradient), and the GRU's new-gate ``bias_hh`` sits inside
  ``r * (...)``, where rnnlab has no bias.  With that, the first steps' losses agree with
  rnnlab's to float32 rounding (the benchmark records them).
"""

import importlib.util

import numpy as np

from rnnlab.bench import measure, specs

__all__ = ["torch_available", "torch_weights", "rnnlab_weights", "TorchRunner"]

#: rnnlab's gate names per cell, in PyTorch's stacking order; (None,) for the Elman cell.
GATES = {"elman": (None,), "lstm": ("ingate", "forgetgate", "cell", "outgate"),
         "gru": ("resetgate", "updategate", "hidden_update")}
#: The GRU gate whose sign flips between rnnlab (``u``) and PyTorch (``z = 1 - u``).
FLIPPED = "updategate"


def torch_available():
    """Whether PyTorch can be imported (without importing it).

    Examples
    --------
    >>> torch_available() in (True, False)
    True
    """
    return importlib.util.find_spec("torch") is not None


def _names(cell, gate):
    if gate is None:
        return "rec0.W_in_to_hid", "rec0.W_hid_to_hid", "rec0.b"
    return f"rec0.W_in_to_{gate}", f"rec0.W_hid_to_{gate}", f"rec0.b_{gate}"


def torch_weights(params, cell):
    """rnnlab's parameters in PyTorch's layout: the ``state_dict`` of :class:`TorchRunner`'s model.

    Parameters
    ----------
    params : dict of str -> numpy.ndarray
        rnnlab's names and shapes: ``'embed.W'`` ``(V, E)``, ``'rec0.*'``, ``'out.W'`` ``(H, V)``,
        ``'out.b'`` ``(V,)``.
    cell : {'elman', 'lstm', 'gru'}

    Returns
    -------
    dict of str -> numpy.ndarray
        ``'embed.weight'`` ``(V, E)``, ``'rnn.weight_ih_l0'`` ``(G H, E)``,
        ``'rnn.weight_hh_l0'`` ``(G H, H)``, ``'rnn.bias_ih_l0'`` and ``'rnn.bias_hh_l0'``
        ``(G H,)`` with ``G`` = 1, 4 or 3 gates, ``'out.weight'`` ``(V, H)``, ``'out.bias'``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = {"embed.W": rng.normal(size=(5, 2)), "rec0.W_in_to_hid": rng.normal(size=(2, 3)),
    ...           "rec0.W_hid_to_hid": rng.normal(size=(3, 3)), "rec0.b": rng.normal(size=3),
    ...           "out.W": rng.normal(size=(3, 5)), "out.b": rng.normal(size=5)}
    >>> weights = torch_weights(params, "elman")
    >>> weights["rnn.weight_ih_l0"].shape, float(abs(weights["rnn.bias_hh_l0"]).max())
    ((3, 2), 0.0)
    >>> all(np.array_equal(params[k], v) for k, v in rnnlab_weights(weights, "elman").items())
    True
    """
    blocks = {"ih": [], "hh": [], "b": []}
    for gate in GATES[cell]:
        sign = -1.0 if gate == FLIPPED else 1.0
        w_in, w_hid, bias = (np.asarray(params[name]) for name in _names(cell, gate))
        blocks["ih"].append(sign * w_in.T)
        blocks["hh"].append(sign * w_hid.T)
        blocks["b"].append(sign * bias)
    bias = np.concatenate(blocks["b"])
    return {"embed.weight": np.asarray(params["embed.W"]),
            "rnn.weight_ih_l0": np.concatenate(blocks["ih"]),
            "rnn.weight_hh_l0": np.concatenate(blocks["hh"]),
            "rnn.bias_ih_l0": bias, "rnn.bias_hh_l0": np.zeros_like(bias),
            "out.weight": np.asarray(params["out.W"]).T, "out.bias": np.asarray(params["out.b"])}


def rnnlab_weights(weights, cell):
    """The inverse of :func:`torch_weights`: PyTorch's ``state_dict`` arrays by rnnlab's names.

    The two biases of each gate are summed (the GRU's new-gate ``bias_hh`` must be zero: rnnlab
    has no bias inside ``r * (...)``).

    Examples
    --------
    >>> weights = {"embed.weight": np.zeros((4, 2)), "out.weight": np.zeros((4, 3)),
    ...            "out.bias": np.zeros(4), "rnn.weight_ih_l0": np.ones((9, 2)),
    ...            "rnn.weight_hh_l0": np.ones((9, 3)), "rnn.bias_ih_l0": np.ones(9),
    ...            "rnn.bias_hh_l0": np.zeros(9)}
    >>> params = rnnlab_weights(weights, "gru")
    >>> params["rec0.W_in_to_updategate"][0], params["rec0.b_resetgate"]
    (array([-1., -1., -1.]), array([1., 1., 1.]))
    """
    gates = GATES[cell]
    units = np.asarray(weights["rnn.weight_hh_l0"]).shape[1]
    bias = np.asarray(weights["rnn.bias_ih_l0"]) + np.asarray(weights["rnn.bias_hh_l0"])
    params = {"embed.W": np.asarray(weights["embed.weight"]),
              "out.W": np.asarray(weights["out.weight"]).T,
              "out.b": np.asarray(weights["out.bias"])}
    for k, gate in enumerate(gates):
        sign = -1.0 if gate == FLIPPED else 1.0
        rows = slice(k * units, (k + 1) * units)
        w_in, w_hid, b = _names(cell, gate)
        params[w_in] = sign * np.asarray(weights["rnn.weight_ih_l0"])[rows].T
        params[w_hid] = sign * np.asarray(weights["rnn.weight_hh_l0"])[rows].T
        params[b] = sign * bias[rows]
    return params


def _build_model(cell, vocab_size, embedding, hidden, threads):
    import torch
    from torch import nn

    recurrent = {"elman": lambda: nn.RNN(embedding, hidden, nonlinearity="tanh",
                                         batch_first=True),
                 "lstm": lambda: nn.LSTM(embedding, hidden, batch_first=True),
                 "gru": lambda: nn.GRU(embedding, hidden, batch_first=True)}[cell]

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embedding)
            self.rnn = recurrent()
            self.out = nn.Linear(hidden, vocab_size)

        def forward(self, ids, state):
            hidden_states, state = self.rnn(self.embed(ids), state)
            return self.out(hidden_states), state

    torch.set_num_threads(threads or measure.cpu_count())
    torch.manual_seed(specs.SEED)
    return CharLM()


class TorchRunner:
    """Train and sample the PyTorch version of the benchmark's character LM.

    Parameters
    ----------
    bench : rnnlab.bench.specs.BenchConfig
    cell : {'elman', 'lstm', 'gru'}
    task : rnnlab.tasks.TextTask
        The vocabulary and batches (:func:`rnnlab.bench.specs.text_task`).
    params : dict of str -> numpy.ndarray, optional
        Initial parameters by rnnlab's names (e.g. ``RnnlabRunner.parameters()``); PyTorch's
        own initialisation (seeded with :data:`~rnnlab.bench.specs.SEED`) when None.
    threads : int, optional
        ``torch.set_num_threads`` (process-wide); by default the cores this process may use.
    device : {'cpu', 'gpu'}
        ``gpu``: the model, batches and states on CUDA (``torch.device('cuda')``); each step
        waits for its result (``loss.item()``), so the timings are of finished steps.

    Attributes
    ----------
    framework : str
        ``'torch'``.

    Examples
    --------
    PyTorch is optional, so the example only runs where it is installed (tests/bench/test_bench.py
    exercises the runner whenever it is):

    >>> task = specs.text_task(specs.TINY, specs.default_text(), max_chars=2000)
    >>> if torch_available():
    ...     runner = TorchRunner(specs.TINY, "gru", task)
    ...     assert 0 < runner.step() < 10 and len(runner.sample(5)) == 5
    ...     assert runner.parameters()["out.W"].shape == (6, task.vocab.size)
    """

    framework = "torch"

    def __init__(self, bench, cell, task, params=None, threads=None, device="cpu"):
        import torch

        self._torch = torch
        self._device = torch.device("cuda" if device == "gpu" else "cpu")
        self.cell, self.vocab = cell, task.vocab
        self.model = _build_model(cell, task.vocab.size, bench.embedding, bench.hidden,
                                  threads)
        if params is not None:
            state = {name: torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
                     for name, value in torch_weights(params, cell).items()}
            self.model.load_state_dict(state)
        self.model.to(self._device)
        with torch.no_grad():  # rnnlab's model: one bias per gate (see the module docstring)
            self.model.rnn.bias_hh_l0.zero_()
        self.model.rnn.bias_hh_l0.requires_grad_(False)
        trained = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(trained, lr=specs.LR)
        count = min(16, task.batches_per_epoch())
        self._batches = [tuple(torch.from_numpy(a.astype(np.int64)).to(self._device)
                               for a in task.train_batch(0, i)) for i in range(count)]
        self._index = 0
        self._state = self._zeros(bench.batch, bench.hidden)

    def _zeros(self, batch, hidden):
        zeros = self._torch.zeros(1, batch, hidden, device=self._device)
        return (zeros, zeros.clone()) if self.cell == "lstm" else zeros

    def step(self):
        """One SGD step on the next batch, the state carried and detached; return the loss."""
        x, y = self._batches[self._index % len(self._batches)]
        self._index += 1
        self.optimizer.zero_grad(set_to_none=True)
        logits, state = self.model(x, self._state)
        loss = self._torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                      y.reshape(-1))
        loss.backward()
        self.optimizer.step()
        self._state = tuple(s.detach() for s in state) if isinstance(state, tuple) \
            else state.detach()
        return loss.item()

    def sample(self, length, seed=specs.SEED):
        """``length`` characters, one at a time (``torch.no_grad``, the state carried)."""
        torch = self._torch
        generator = torch.Generator(self._device).manual_seed(seed)
        hidden = self.model.rnn.hidden_size
        with torch.no_grad():
            state = self._zeros(1, hidden)
            index = torch.randint(self.vocab.size, (1, 1), generator=generator,
                                  device=self._device)
            ids = [int(index)]
            while len(ids) < length:
                logits, state = self.model(index, state)
                probs = torch.softmax(logits[0, -1], dim=-1)
                index = torch.multinomial(probs, 1, generator=generator).view(1, 1)
                ids.append(int(index))
        return self.vocab.decode(np.asarray(ids[:length], dtype=np.int64))

    def parameters(self):
        """The parameters by rnnlab's names and in its layout (:func:`rnnlab_weights`)."""
        weights = {name: value.detach().cpu().numpy().copy()
                   for name, value in self.model.state_dict().items()}
        return rnnlab_weights(weights, self.cell)
