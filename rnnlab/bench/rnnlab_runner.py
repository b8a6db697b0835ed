"""rnnlab's side of the benchmark: the product's own session, training function and sampler.

Nothing here re-implements rnnlab: the model, its initialisation and its compiled ``train`` and
``predict`` functions come from :func:`rnnlab.training.session.build_session` (the path of
``python -m rnnlab.train``), and sampling is :func:`rnnlab.tasks.sampling.generate` (the path of
``python -m rnnlab.sample``).  Whatever makes those faster shows up here unchanged.
"""

import time

from rnnlab import backend
from rnnlab.bench import specs
from rnnlab.tasks.sampling import generate
from rnnlab.training.session import build_session

__all__ = ["RnnlabRunner"]

#: Distinct batches cycled through by :meth:`RnnlabRunner.step` (and the other runners).
BATCHES = 16


class RnnlabRunner:
    """Train and sample one rnnlab character LM; the benchmark's unit of work.

    Parameters
    ----------
    bench : rnnlab.bench.specs.BenchConfig
    cell : {'elman', 'lstm', 'gru'}
    text : str or os.PathLike
        The corpus.
    mode : str
        rnnlab compile mode (``''``: the configured default, see :mod:`rnnlab.backend`).
    max_chars : int
        Read only this many characters of ``text`` (0: all).
    device : {'cpu', 'gpu'}
        rnnlab's ``device.device`` (``gpu``: PyTensor's JAX backend on the GPU).

    Attributes
    ----------
    framework : str
        ``'rnnlab'``.
    session : rnnlab.training.session.Session
        The product's session: config, task (data and vocabulary), network, compiled functions.
    mode : str
        The compile mode the functions were built with.
    build_seconds : float
        Time spent in :func:`~rnnlab.training.session.build_session` (building and compiling).

    Examples
    --------
    >>> runner = RnnlabRunner(specs.TINY, "elman", specs.default_text(), max_chars=2000)
    >>> loss = runner.step()                          # one SGD step on (3, 7) characters
    >>> 0 < loss < 10, sorted(runner.parameters())[:2]
    (True, ['embed.W', 'out.W'])
    >>> len(runner.sample(5))
    5
    """

    framework = "rnnlab"

    def __init__(self, bench, cell, text, mode="", max_chars=0, device="cpu"):
        cfg = specs.rnnlab_config(bench, cell, text, mode=mode, max_chars=max_chars,
                                  device=device)

        started = time.perf_counter()
        self.session = build_session(cfg)
        self.build_seconds = time.perf_counter() - started
        self.mode = backend.settings()["mode"]
        task = self.session.task
        count = min(BATCHES, task.batches_per_epoch())
        self._batches = [task.train_batch(0, index) for index in range(count)]
        self._index = 0
        self._states = self.session.functions.initial_states(bench.batch)

    def step(self):
        """One training step on the next batch, carrying the states; return the loss (float).

        This is the compiled ``train(x, y, *states)`` of :mod:`rnnlab.model.compile`, as
        ``python -m rnnlab.train`` calls it.
        """
        x, y = self._batches[self._index % len(self._batches)]
        self._index += 1
        outputs = self.session.functions.train(x, y, *self._states)
        self._states = list(outputs[2:])
        return float(outputs[0])

    def sample(self, length, seed=specs.SEED):
        """``length`` characters, one ``predict`` call each (:func:`rnnlab.tasks.sampling.generate`)."""
        return generate(self.session, length=length, temperature=1.0, seed=seed)

    def parameters(self):
        """The trainable parameters by name (``'rec0.W_in_to_hid'``, ...), as float32 arrays."""
        return {p.name: p.get_value() for p in self.session.functions.params}
