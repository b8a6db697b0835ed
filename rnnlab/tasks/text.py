"""Character language modelling as a task: streams of characters with the state carried over.

See :mod:`rnnlab.tasks` for the interface every task implements and the training loop calls.
"""

import math

import numpy as np

from rnnlab.datasets.batching import StreamBatcher, split_contiguous
from rnnlab.datasets.text import Vocabulary, read_text
from rnnlab.errors import DataError
from rnnlab.files import atomic_write_text
from rnnlab.tasks.sampling import generate

__all__ = ["TextTask"]


class TextTask:
    """Character language modelling on one UTF-8 file (see :mod:`rnnlab.tasks`).

    Parameters
    ----------
    cfg : dict
        A resolved config with ``data.kind = "text"``.
    meta : dict, optional
        A run's ``meta.json``: the vocabulary is taken from it and the file read lazily.
    meta_source : str
        What ``meta`` was read from, for error messages.

    Attributes
    ----------
    kind : str
        ``"text"``.
    vocab : Vocabulary
        The characters; ids index it.

    Examples
    --------
    >>> from rnnlab import config
    >>> cfg = config.load(None, ["data.path=unused.txt"], check_files=False)
    >>> meta = {"kind": "text", "vocabulary": Vocabulary("ab").to_dict()}
    >>> TextTask(cfg, meta).vocab.chars          # no file read
    ('a', 'b')
    """

    kind = "text"
    #: The training loss, with its unit.
    loss_label = "cross-entropy (nats/char)"

    def __init__(self, cfg, meta=None, meta_source="meta"):
        self.cfg = cfg
        self._data = cfg.data
        self._train = cfg.train
        self._parts = None
        self._batchers = {}
        if meta is None:
            self.vocab = None
            self._load()
        else:
            self.vocab = Vocabulary.from_dict(meta.get("vocabulary"), source=meta_source)

    def _load(self):
        """Read, encode and split the file; build the training and evaluation batchers."""
        path = self._data.path
        text = read_text(path)
        if self._data.max_chars:
            text = text[:self._data.max_chars]
        if self.vocab is None:
            self.vocab = Vocabulary.from_text(text)
            if self.vocab.size < 2:
                part = f"the first data.max_chars = {len(text)} characters" \
                    if self._data.max_chars else "the text"
                raise DataError(f"{path}: {part} repeat one character "
                                f"({self.vocab.chars[0]!r}); expected at least two distinct "
                                f"characters (one is certain: there is nothing to learn)")
        try:
            ids = self.vocab.encode(text)
        except DataError as err:
            raise DataError(f"{path}: {err} (saved with the run); the data file changed") from None
        try:
            self.vocab.encode(self.cfg.run.prime)
        except DataError as err:
            raise DataError(f"run.prime = {self.cfg.run.prime!r}: {err} of {path}"
                            ) from None
        train, val, test = split_contiguous(ids, val=self._data.val_fraction,
                                            test=self._data.test_fraction, name=str(path))
        self._parts = {"train": train, "val": val, "test": test}
        seq_len, batch_size = self._data.seq_len, self._train.batch_size
        self._batchers["train"] = StreamBatcher(train, batch_size, seq_len,
                                                name=f"{path} (training part)")
        for split in ("val", "test"):
            part = self._parts[split]
            if len(part):
                # Evaluation streams: as many as fit (at most batch_size), each >= one chunk.
                streams = max(1, min(batch_size, (len(part) - 1) // seq_len))
                label = "validation" if split == "val" else "test"
                self._batchers[split] = StreamBatcher(part, streams, seq_len,
                                                      name=f"{path} ({label} part)")

    def _batcher(self, split):
        if self._parts is None:
            self._load()
        if split not in self._batchers:
            raise DataError(f"{self._data.path}: the {split} part is empty "
                            f"(data.{split}_fraction = 0); nothing to evaluate")
        return self._batchers[split]

    def has_split(self, split):
        """Whether ``split`` (``"val"`` or ``"test"``) holds data to evaluate."""
        if self._parts is None:
            self._load()
        return split in self._batchers

    def network_shape(self):
        """The sizes the language model is built with (:func:`rnnlab.model.networks.build_network`).

        Returns
        -------
        dict
            ``vocab_size``: the vocabulary's size (inputs and output classes).
        """
        return {"vocab_size": self.vocab.size}

    def batches_per_epoch(self):
        """Number of training batches in one epoch (each ``(batch_size, seq_len)``)."""
        return len(self._batcher("train"))

    def step_items(self):
        """What one training step reads: ``(batch_size * seq_len, "chars")``."""
        return self._train.batch_size * self._data.seq_len, "chars"

    def train_batch(self, epoch, index):
        """Batch ``index`` of an epoch: int32 ids ``x`` and next ids ``y``, both (batch, seq_len).

        Every epoch reads the same streams in the same order (``epoch`` is unused): the carried
        state requires batch ``k + 1`` to continue batch ``k``.
        """
        return self._batcher("train").batch(index)

    def evaluate(self, functions, split="val"):
        """Mean next-character loss of a split, carrying the state across its batches.

        Parameters
        ----------
        functions : rnnlab.model.compile.Functions
            Uses ``evaluate(x, y, *states) -> [loss, *states]`` and ``initial_states``.
        split : {'val', 'test'}
            The part; ``train.eval_batches`` (if > 0) limits the batches read.

        Returns
        -------
        dict
            ``loss`` (nats per character), ``bpc`` (bits per character) and ``perplexity``.
        """
        batcher = self._batcher(split)
        limit = self._train.eval_batches or len(batcher)
        states = functions.initial_states(batcher.batch_size)
        losses = []
        for index in range(min(limit, len(batcher))):
            x, y = batcher.batch(index)
            outputs = functions.evaluate(x, y, *states)
            losses.append(float(outputs[0]))
            states = list(outputs[1:])
        loss = float(np.mean(losses))
        return {"loss": loss, "bpc": loss / math.log(2),
                "perplexity": math.exp(loss) if loss < 700 else math.inf}

    def on_evaluation(self, session, step, rundir):
        """Write a text sample to ``RUN/samples/step_XXXXXX.txt``; return its path in a list.

        ``rundir`` is the :class:`~rnnlab.run.RunDir`.

        The sample (``run.sample_length`` characters at ``run.temperature`` after ``run.prime``)
        is drawn with seed ``step``, so a resumed run writes the same samples.
        """
        run = self.cfg.run
        text = generate(session, length=run.sample_length, temperature=run.temperature,
                        prime=run.prime, seed=int(step))
        path = rundir.samples_dir / f"step_{int(step):06d}.txt"
        atomic_write_text(path, text + "\n")
        return [path]

    def meta(self):
        """The JSON-ready metadata saved with a run: vocabulary and part sizes.

        Returns
        -------
        dict
            ``kind``, ``vocabulary`` (see :meth:`Vocabulary.to_dict`), ``vocab_size`` and
            ``sizes`` (characters per part; empty before the data is read).
        """
        sizes = {} if self._parts is None else {k: int(len(v)) for k, v in self._parts.items()}
        meta = {"kind": self.kind, "vocabulary": self.vocab.to_dict(),
                "vocab_size": self.vocab.size, "sizes": sizes}
        if self._parts is not None:
            meta["batches_per_epoch"] = self.batches_per_epoch()
        return meta

