"""Character language modelling as a task: streams of characters with the state carried over.

See :mod:`rnnlab.tasks` for the interface every task implements and the training loop calls.
"""

import math
from pathlib import Path

import numpy as np

from rnnlab.config import data_files
from rnnlab.datasets.batching import StreamBatcher, split_contiguous, split_files
from rnnlab.datasets.text import Vocabulary, read_text
from rnnlab.errors import DataError
from rnnlab.files import atomic_write_text
from rnnlab.tasks.sampling import generate

__all__ = ["TextTask"]


class TextTask:
    """Character language modelling on UTF-8 text (see :mod:`rnnlab.tasks`).

    ``data.path`` is one file, a folder or a glob pattern (:func:`rnnlab.config.data_files`); the
    files are read in path order (empty ones skipped) and joined by ``data.separator``.  With
    ``data.split_by = "position"`` the parts are the end of that text, as for one file; with
    ``"file"`` whole files make up each part (:func:`rnnlab.datasets.batching.split_files`, drawn
    by ``data.split_seed``), each part's files joined the same way.  A run's ``meta.json`` lists
    the files and their parts, so a resumed run reads the same split, or refuses data that
    changed.

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
        self._files, self._file_parts = None, None
        self._meta, self._meta_source = meta, meta_source
        if meta is None:
            self.vocab = None
            self._load()
        else:
            self.vocab = Vocabulary.from_dict(meta.get("vocabulary"), source=meta_source)

    def _read(self):
        """The data's files and texts, empty files skipped, cut at ``data.max_chars``."""
        path, separator, budget = self._data.path, self._data.separator, self._data.max_chars
        files = data_files(path, exclude=[self.cfg.run.dir])      # never the runs' own files
        if not files:
            raise DataError(f"data.path = {path!r}: no file to read; expected a text file, a "
                            f"folder of them or a glob pattern matching some")
        folder = Path(path).expanduser()
        folder = folder if folder.is_dir() else None
        read, used = [], 0
        for file in files:
            if len(files) > 1 and _is_empty(file):
                continue
            text = read_text(file)
            if budget:
                room = budget - used - (len(separator) if read else 0)
                if room <= 0:
                    break
                text = text[:room]
            used += len(text) + (len(separator) if read else 0)
            # meta.json's name: below a folder, relative to it; else the path as found
            read.append((file.relative_to(folder).as_posix() if folder else str(file), text))
        if not read:
            raise DataError(f"data.path = {path!r}: every file is empty; expected UTF-8 text")
        self._check_files(read)
        return read

    def _saved(self, key, names):
        """``files`` or ``file_parts`` of a resumed run's meta.json, checked (None if absent)."""
        saved = (self._meta or {}).get(key)
        if saved is None:
            return None
        if key == "files":
            if isinstance(saved, list) and all(isinstance(name, str) for name in saved):
                return saved
            raise DataError(f"{self._meta_source}: 'files' is not a list of file names; the "
                            "file is damaged")
        if key == "file_chars":
            if isinstance(saved, list) and len(saved) == len(names) and all(
                    isinstance(n, int) and not isinstance(n, bool) for n in saved):
                return saved
            raise DataError(f"{self._meta_source}: 'file_chars' is not one character count per "
                            "file; the file is damaged")
        parts = ("train", "val", "test")
        if isinstance(saved, dict) and set(saved) == set(parts) and all(
                isinstance(saved[p], list) and all(isinstance(n, str) for n in saved[p])
                for p in parts):
            listed = [name for p in parts for name in saved[p]]
            if len(listed) == len(names) and set(listed) == set(names) and saved["train"]:
                return saved
        raise DataError(f"{self._meta_source}: 'file_parts' does not assign each file read to one "
                        "of train, val and test; the file is damaged")

    def _check_files(self, read):
        """A resumed run must read the files it started with, each as long as it was."""
        names = [name for name, _ in read]
        saved = self._saved("files", names)
        if saved is None or len(saved) == len(names) == 1:
            return                               # one file: the vocabulary check covers it
        if saved == names:
            chars = self._saved("file_chars", names)
            changed = [name for (name, text), n in zip(read, chars or ()) if len(text) != n]
            if not changed:
                return
            changes = f"edited: {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}"
        else:
            known, now = set(saved), set(names)
            added = [name for name in names if name not in known]
            missing = [name for name in saved if name not in now]
            changes = "; ".join(
                f"{label}: {', '.join(items[:3])}{' ...' if len(items) > 3 else ''}"
                for label, items in (("added", added), ("missing", missing)) if items)
        raise DataError(f"{self._meta_source}: the run read {len(saved)} files of data.path = "
                        f"{self._data.path!r}, which changed ({changes or 'another order'}); "
                        "expected the same files to continue it")

    def _split(self, read):
        """The train, validation and test texts, by position or by file."""
        data, separator = self._data, self._data.separator
        names = [name for name, _ in read]
        self._files = [(name, len(text)) for name, text in read]
        if data.split_by == "position":
            return None
        saved = self._saved("file_parts", names)
        if saved is not None:
            index = {name: i for i, name in enumerate(names)}
            parts = [[index[name] for name in saved[part]] for part in ("train", "val", "test")]
        else:
            cut = f" cut at data.max_chars = {data.max_chars}" if data.max_chars else ""
            parts = split_files([len(text) for _, text in read], val=data.val_fraction,
                                test=data.test_fraction, seed=data.split_seed,
                                name=f"data.path = {data.path!r}{cut}")
        self._file_parts = {part: [names[i] for i in indices]
                            for part, indices in zip(("train", "val", "test"), parts)}
        return [separator.join(read[i][1] for i in indices) for indices in parts]

    def _load(self):
        """Read, encode and split the data; build the training and evaluation batchers."""
        path = self._data.path
        read = self._read()
        text = self._data.separator.join(t for _, t in read)
        by_file = self._split(read)
        if self.vocab is None:
            self.vocab = Vocabulary.from_text(text)
            if self.vocab.size < 2:
                part = f"the first data.max_chars = {len(text)} characters" \
                    if self._data.max_chars else "the text"
                raise DataError(f"{path}: {part} repeat one character "
                                f"({self.vocab.chars[0]!r}); expected at least two distinct "
                                f"characters (one is certain: there is nothing to learn)")
        try:
            ids = [self.vocab.encode(part) for part in by_file] if by_file else \
                self.vocab.encode(text)
        except DataError as err:
            raise DataError(f"{path}: {err} (saved with the run); the data file changed") from None
        try:
            self.vocab.encode(self.cfg.run.prime)
        except DataError as err:
            raise DataError(f"run.prime = {self.cfg.run.prime!r}: {err} of {path}"
                            ) from None
        if by_file:
            train, val, test = ids
        else:
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
            ``kind``, ``vocabulary`` (see :meth:`Vocabulary.to_dict`), ``vocab_size``, ``sizes``
            (characters per part; empty before the data is read) and, once it is read,
            ``batches_per_epoch``, ``files`` (the files read, in order), ``file_chars``
            (their lengths in characters, as read: a resume refuses an edited file) and, when
            ``data.split_by = "file"``, ``file_parts`` (``train``/``val``/``test`` -> files).
        """
        sizes = {} if self._parts is None else {k: int(len(v)) for k, v in self._parts.items()}
        meta = {"kind": self.kind, "vocabulary": self.vocab.to_dict(),
                "vocab_size": self.vocab.size, "sizes": sizes}
        if self._parts is not None:
            meta["batches_per_epoch"] = self.batches_per_epoch()
            meta["files"] = [name for name, _ in self._files]
            meta["file_chars"] = [chars for _, chars in self._files]
            if self._file_parts is not None:
                meta["file_parts"] = {part: list(names) for part, names in
                                      self._file_parts.items()}
        return meta


def _is_empty(file):
    try:
        return file.stat().st_size == 0
    except OSError:
        return False                                         # read_text names the problem
