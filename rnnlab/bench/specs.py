"""What the benchmark trains: the configurations, the shared settings and the matching rnnlab config.

Every framework trains the same character language model on the same batches::

    ids (batch, seq) -> embedding (EMBEDDING) -> one recurrent layer (hidden) -> dense -> logits
    loss = mean next-character cross-entropy;  update = plain SGD, lr = LR, no gradient clipping

in float32 (the numpy reference computes in float64: :mod:`rnnlab.reference` is written that way).
The recurrent state is *carried*: every step continues the text streams of the previous batch
from the state it ended in (truncated BPTT, as ``python -m rnnlab.train`` trains), starting from
zeros.  rnnlab's model is built by :func:`rnnlab.training.session.build_session` from the config that
:func:`rnnlab_config` resolves through :func:`rnnlab.config.load`, exactly as
``python -m rnnlab.train`` builds it; the other frameworks copy its initial parameters.
"""

from dataclasses import dataclass
from pathlib import Path

from rnnlab import config
from rnnlab.errors import ConfigError
from rnnlab.tasks import TextTask

__all__ = ["BenchConfig", "CONFIGS", "TINY", "CELLS", "FRAMEWORKS", "EMBEDDING", "LR", "SEED",
           "find_config", "rnnlab_config", "text_task", "default_text"]

#: Characters per embedding vector, for every configuration but :data:`TINY`.
EMBEDDING = 64
#: The SGD learning rate, for every framework.
LR = 0.1
#: ``train.seed``: rnnlab's initialisation (the others copy it) and the sampling seeds.
SEED = 0
#: Cell types, as rnnlab's ``model.cell`` names them (PyTorch: RNN(tanh), LSTM, GRU).
CELLS = ("elman", "lstm", "gru")
#: Frameworks, in the order they are built (the first one's initial parameters are copied).
FRAMEWORKS = ("rnnlab", "torch", "numpy")


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark configuration: batch size, sequence length, hidden units, embedding size.

    Attributes
    ----------
    name : str
        ``'a'``, ``'b'``, ``'c'`` or ``'tiny'``.
    batch, seq, hidden, embedding : int
        Every training step reads ``(batch, seq)`` character ids.

    Examples
    --------
    >>> CONFIGS["a"].label, CONFIGS["a"].chars_per_step
    ('(a) batch 32, seq 64, hidden 128', 2048)
    """

    name: str
    batch: int
    seq: int
    hidden: int
    embedding: int = EMBEDDING

    @property
    def label(self):
        """str: e.g. ``'(a) batch 32, seq 64, hidden 128'``."""
        return f"({self.name}) batch {self.batch}, seq {self.seq}, hidden {self.hidden}"

    @property
    def chars_per_step(self):
        """int: characters one training step reads, ``batch * seq``."""
        return self.batch * self.seq


#: The benchmark's configurations (a), (b), (c); their measurements are in docs/benchmarks.md.
CONFIGS = {
    "a": BenchConfig("a", batch=32, seq=64, hidden=128),
    "b": BenchConfig("b", batch=64, seq=100, hidden=512),
    "c": BenchConfig("c", batch=1, seq=25, hidden=100),
}
#: ``--tiny``: seconds to run, for the test.
TINY = BenchConfig("tiny", batch=3, seq=7, hidden=6, embedding=5)


def find_config(name):
    """The :class:`BenchConfig` called ``name`` (one of :data:`CONFIGS`, or ``'tiny'``).

    Examples
    --------
    >>> find_config("c").hidden
    100
    >>> find_config("d")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: config 'd': expected one of a, b, c, tiny
    """
    found = dict(CONFIGS, tiny=TINY).get(name)
    if found is None:
        raise ConfigError(f"config {name!r}: expected one of {', '.join(CONFIGS)}, tiny")
    return found


def default_text():
    """The default corpus: ``data/shakespeare.txt`` of the source checkout rnnlab runs from.

    Examples
    --------
    >>> default_text().name
    'shakespeare.txt'
    """
    return Path(__file__).resolve().parents[2] / "data" / "shakespeare.txt"


def rnnlab_config(bench, cell, text, mode="", max_chars=0, device="cpu"):
    """The resolved rnnlab config that trains ``cell`` at ``bench`` the benchmark's way.

    Defaults (:data:`rnnlab.config.DEFAULTS`) overridden by ``section.key=value`` strings, as
    ``python -m rnnlab.train`` resolves them: one layer, no dropout, ``model.embedding``, SGD at
    :data:`LR` without gradient clipping, ``train.seed`` :data:`SEED`.

    Parameters
    ----------
    bench : BenchConfig
    cell : {'elman', 'lstm', 'gru'}
    text : str or os.PathLike
        The corpus (``data.path``); its characters are the vocabulary.
    mode : str
        ``device.mode`` (``''``: rnnlab's default compile mode).
    max_chars : int
        ``data.max_chars`` (0: the whole file).
    device : {'cpu', 'gpu'}
        ``device.device``.

    Returns
    -------
    dict
        See :func:`rnnlab.config.load`.

    Raises
    ------
    ConfigError
        For a missing text file or a bad value, naming it.

    Examples
    --------
    >>> cfg = rnnlab_config(CONFIGS["b"], "gru", default_text())
    >>> cfg.model.hidden, cfg.train.optimizer, cfg.train.max_grad_norm
    (512, 'sgd', 0.0)
    """
    overrides = [f"data.path={text}", f"data.seq_len={bench.seq}", f"data.max_chars={max_chars}",
                 f"model.cell={cell}", f"model.hidden={bench.hidden}", "model.layers=1",
                 "model.dropout=0", f"model.embedding={bench.embedding}", "train.optimizer=sgd",
                 f"train.lr={LR}", "train.max_grad_norm=0", f"train.batch_size={bench.batch}",
                 f"train.seed={SEED}", f"device.mode={mode}", f"device.device={device}",
                 "run.progress=false"]
    return config.load(None, overrides)


def text_task(bench, text, max_chars=0):
    """The text, vocabulary and batches every framework trains on, without building a model.

    Parameters
    ----------
    bench : BenchConfig
    text : str or os.PathLike
    max_chars : int

    Returns
    -------
    rnnlab.tasks.TextTask
        ``train_batch(0, i)`` gives int32 ``(x, y)`` of shape ``(batch, seq)``; ``vocab`` the
        characters.  The same batches rnnlab's own session reads.

    Examples
    --------
    >>> task = text_task(TINY, default_text(), max_chars=2000)
    >>> x, y = task.train_batch(0, 0)
    >>> x.shape, bool((x[:, 1:] == y[:, :-1]).all())
    ((3, 7), True)
    """
    return TextTask(rnnlab_config(bench, "elman", text, max_chars=max_chars), None)
