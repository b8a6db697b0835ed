"""The numpy reference's side of the benchmark: hand-derived BPTT from :mod:`rnnlab.reference`.

The recurrent layer's forward and backward passes are :func:`~rnnlab.reference.elman_forward` /
:func:`~rnnlab.reference.elman_backward` and :func:`~rnnlab.reference.lstm_forward` /
:func:`~rnnlab.reference.lstm_backward`; around them this module adds the embedding lookup, the
dense output layer, the mean cross-entropy and their gradients, and the SGD update.  The
reference computes in float64 (it is the ground truth of the gradient tests), so this column is
float64 where the others are float32.  It has no GRU (:data:`REFERENCE` lists the cells).
"""

import numpy as np

from rnnlab import reference
from rnnlab.bench import specs

__all__ = ["REFERENCE", "NumpyRunner"]

#: Cell -> (init, forward, backward, carried states) of the numpy reference.
REFERENCE = {
    "elman": (reference.init_elman_params, reference.elman_forward, reference.elman_backward,
              ("h0",)),
    "lstm": (lambda d, u, rng: reference.init_lstm_params(d, u, rng, peepholes=False),
             reference.lstm_forward, reference.lstm_backward, ("h0", "c0")),
}


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _final_states(H, cache, count):
    """The states after the last step, in rnnlab's order (hid, then cell)."""
    return [H[:, -1]] if count == 1 else [H[:, -1], cache["C"][:, -1]]


class NumpyRunner:
    """Train and sample the character LM with the numpy reference's hand-derived BPTT (float64).

    Parameters
    ----------
    bench : rnnlab.bench.specs.BenchConfig
    cell : {'elman', 'lstm'}
        The cells in :data:`REFERENCE`.
    task : rnnlab.tasks.TextTask
        The vocabulary and batches (:func:`rnnlab.bench.specs.text_task`).
    params : dict of str -> numpy.ndarray, optional
        Initial parameters by rnnlab's names; otherwise drawn from ``N(0, 0.5**2)`` (the
        reference's test initialisation) for the recurrent layer and ``N(0, 0.1**2)`` around it.

    Attributes
    ----------
    framework : str
        ``'numpy'``.

    Examples
    --------
    >>> task = specs.text_task(specs.TINY, specs.default_text(), max_chars=2000)
    >>> runner = NumpyRunner(specs.TINY, "lstm", task)
    >>> loss = runner.step()
    >>> 0 < loss < 10, len(runner.sample(5)), runner.parameters()["rec0.b_cell"].shape
    (True, 5, (6,))
    """

    framework = "numpy"

    def __init__(self, bench, cell, task, params=None):
        if cell not in REFERENCE:
            raise ValueError(f"cell={cell!r}: the numpy reference has only "
                             f"{', '.join(REFERENCE)}")
        init, self._forward, self._backward, self._state_names = REFERENCE[cell]
        self.vocab = task.vocab
        if params is None:
            rng = np.random.default_rng(specs.SEED)
            params = {"rec0." + k: v for k, v in init(bench.embedding, bench.hidden, rng).items()}
            params["embed.W"] = 0.1 * rng.standard_normal((task.vocab.size, bench.embedding))
            params["out.W"] = 0.1 * rng.standard_normal((bench.hidden, task.vocab.size))
            params["out.b"] = np.zeros(task.vocab.size)
        self.params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
        count = min(16, task.batches_per_epoch())
        self._batches = [task.train_batch(0, i) for i in range(count)]
        self._index = 0
        self._states = [np.zeros((bench.batch, bench.hidden)) for _ in self._state_names]

    def _recurrent(self):
        return {name[5:]: value for name, value in self.params.items()
                if name.startswith("rec0.")}

    def _logits(self, ids, states):
        """Forward: logits (B, T, V), hidden states (B, T, H), the reference's cache."""
        H, cache = self._forward(self._recurrent(), self.params["embed.W"][ids], *states)
        return H @ self.params["out.W"] + self.params["out.b"], H, cache

    def step(self):
        """One SGD step on the next batch, the states carried; return the loss (mean nats)."""
        x, y = self._batches[self._index % len(self._batches)]
        self._index += 1
        logits, H, cache = self._logits(x, self._states)
        log_probs = _log_softmax(logits)
        batch, steps, vocab = logits.shape
        rows, cols = np.meshgrid(np.arange(batch), np.arange(steps), indexing="ij")
        loss = -log_probs[rows, cols, y].mean()
        # d loss / d logits = (softmax - onehot(y)) / (B T)
        dlogits = np.exp(log_probs)
        dlogits[rows, cols, y] -= 1.0
        dlogits /= batch * steps
        flat_h, flat_d = H.reshape(-1, H.shape[-1]), dlogits.reshape(-1, vocab)
        grads = {"out.W": flat_h.T @ flat_d, "out.b": flat_d.sum(axis=0)}
        rec = self._backward(self._recurrent(), cache, dlogits @ self.params["out.W"].T)
        grads.update({"rec0." + name: value for name, value in rec.items()
                      if "rec0." + name in self.params})
        d_embed = np.zeros_like(self.params["embed.W"])
        np.add.at(d_embed, x.reshape(-1), rec["x"].reshape(-1, d_embed.shape[1]))
        grads["embed.W"] = d_embed
        for name, grad in grads.items():
            self.params[name] -= specs.LR * grad
        self._states = _final_states(H, cache, len(self._state_names))
        return float(loss)

    def sample(self, length, seed=specs.SEED):
        """``length`` characters, one forward call of one step each, the states carried."""
        rng = np.random.default_rng(seed)
        states = [np.zeros((1, s.shape[1])) for s in self._states]
        ids = [int(rng.integers(self.vocab.size))]
        while len(ids) < length:
            logits, H, cache = self._logits(np.full((1, 1), ids[-1]), states)
            states = _final_states(H, cache, len(states))
            probs = np.exp(_log_softmax(logits[0, -1]))
            ids.append(int(min(np.searchsorted(np.cumsum(probs), rng.random(), side="right"),
                               self.vocab.size - 1)))
        return self.vocab.decode(np.asarray(ids[:length], dtype=np.int64))

    def parameters(self):
        """The parameters by rnnlab's names (float64 copies)."""
        return {name: value.copy() for name, value in self.params.items()}
