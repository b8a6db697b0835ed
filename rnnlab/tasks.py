"""The two data kinds behind one interface, so the training loop never branches on the kind.

A task owns the data of a run and everything that depends on its kind: how the network is built,
how an epoch is cut into batches, which states are carried between batches and how a split is
evaluated.  The loop (:mod:`rnnlab.train`) only calls::

    task.network(model_cfg)            -> rnnlab.models.Network
    task.batches_per_epoch()           -> int
    task.train_batch(epoch, index)     -> (x, y)          deterministic: resumable anywhere
    task.initial_states(batch_size)    -> [zeros (batch, hidden), ...]  ([] for series)
    task.evaluate(functions, "val")    -> {"loss": ..., "bpc"/"perplexity" | "rmse"/"mae"/"mase"}
    task.meta()                        -> JSON-ready dict saved as the run's meta.json
    task.on_evaluation(session, step, run_dir) -> files written (text samples; nothing for series)

:class:`TextTask` cuts the training characters into ``train.batch_size`` parallel streams read
``data.seq_len`` characters at a time (:class:`~rnnlab.datasets.batching.StreamBatcher`), so the
hidden state is carried from one batch to the next; :class:`SeriesTask` shuffles the training
windows of :func:`~rnnlab.datasets.timeseries.prepare` with ``default_rng([seed, epoch])``, so any
batch of any epoch can be rebuilt from ``(epoch, index)`` alone.  Given the ``meta`` saved with a
run, a task rebuilds its network without reading the data file (the vocabulary or the data shape
come from ``meta``); the data is read only when batches or metrics are asked for.

This module imports no PyTensor: :mod:`rnnlab.session` configures the backend first.
"""

import json
import math

import numpy as np

from rnnlab import metrics
from rnnlab.datasets.batching import StreamBatcher, split_contiguous
from rnnlab.datasets.text import Vocabulary, read_text
from rnnlab.datasets.timeseries import load_csv, prepare
from rnnlab.errors import DataError

__all__ = ["make_task", "TextTask", "SeriesTask", "TRANSFORMS"]

#: ``data.transform`` -> the transforms of :class:`~rnnlab.datasets.scaling.Preprocessor`.
TRANSFORMS = {"none": [], "log": ["log"], "diff": ["diff"], "log+diff": ["log", "diff"]}


def make_task(cfg, meta=None):
    """Build the task for a resolved config.

    Parameters
    ----------
    cfg : dict
        A config from :func:`rnnlab.config.load`.
    meta : dict, optional
        A run's saved ``meta.json`` (from :meth:`TextTask.meta` / :meth:`SeriesTask.meta`): the
        task then uses the saved vocabulary or checks the data against the saved preprocessing,
        and reads the data file only when it is needed.  Without it the data is read and
        checked at once, so impossible sizes fail before any work.

    Returns
    -------
    TextTask or SeriesTask
        By ``cfg["data"]["kind"]``.

    Raises
    ------
    DataError
        Naming the file: unreadable data, or parts too short for the batch and window sizes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("to be or not to be, that is the question. " * 20)
    >>> cfg = config.load(None, [f"data.path={path}", "data.seq_len=8", "train.batch_size=4",
    ...                          "data.val_fraction=0.1", "data.test_fraction=0.1"])
    >>> task = make_task(cfg)
    >>> task.kind, task.vocab.size, task.batches_per_epoch()
    ('text', 15, 20)
    >>> x, y = task.train_batch(0, 3)
    >>> x.shape, y.shape, bool((x[:, 1:] == y[:, :-1]).all())
    ((4, 8), (4, 8), True)
    >>> tmp.cleanup()
    """
    kinds = {"text": TextTask, "series": SeriesTask}
    kind = cfg["data"]["kind"]
    if kind not in kinds:
        raise ValueError(f"cfg['data']['kind']={kind!r}: expected one of {', '.join(kinds)}")
    if meta is not None and meta.get("kind", kind) != kind:
        raise DataError(f"meta.json describes a {meta.get('kind')!r} run; the config has "
                        f"data.kind={kind!r}")
    return kinds[kind](cfg, meta)


def _floatx(cfg):
    return cfg["device"]["floatX"]


class TextTask:
    """Character language modelling on one UTF-8 file (see the module docstring).

    Parameters
    ----------
    cfg : dict
        A resolved config with ``data.kind = "text"``.
    meta : dict, optional
        A run's ``meta.json``: the vocabulary is taken from it and the file read lazily.

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

    def __init__(self, cfg, meta=None):
        self.cfg = cfg
        self._data = cfg["data"]
        self._train = cfg["train"]
        self._parts = None
        self._batchers = {}
        self._state_sizes = None
        if meta is None:
            self.vocab = None
            self._load()
        else:
            self.vocab = Vocabulary.from_dict(meta.get("vocabulary"), source="meta.json")

    def _load(self):
        """Read, encode and split the file; build the training and evaluation batchers."""
        path = self._data["path"]
        text = read_text(path)
        if self._data["max_chars"]:
            text = text[:self._data["max_chars"]]
        if self.vocab is None:
            self.vocab = Vocabulary.from_text(text)
        try:
            ids = self.vocab.encode(text)
        except DataError as err:
            raise DataError(f"{path}: {err} (saved with the run); the data file changed") from None
        try:
            self.vocab.encode(self.cfg["run"]["prime"])
        except DataError as err:
            raise DataError(f"run.prime = {self.cfg['run']['prime']!r}: {err} of {path}"
                            ) from None
        train, val, test = split_contiguous(ids, val=self._data["val_fraction"],
                                            test=self._data["test_fraction"], name=str(path))
        self._parts = {"train": train, "val": val, "test": test}
        seq_len, batch_size = self._data["seq_len"], self._train["batch_size"]
        self._batchers["train"] = StreamBatcher(train, batch_size, seq_len,
                                                name=f"{path} (training part)")
        if len(val) == 0:
            raise DataError(f"{path}: data.val_fraction = 0 leaves no validation text; training "
                            f"needs a validation part")
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
            raise DataError(f"{self._data['path']}: the {split} part is empty "
                            f"(data.{split}_fraction = 0); nothing to evaluate")
        return self._batchers[split]

    def has_split(self, split):
        """Whether ``split`` (``"val"`` or ``"test"``) holds data to evaluate."""
        if self._parts is None:
            self._load()
        return split in self._batchers

    def network(self, model_cfg):
        """Build the character language model (:func:`rnnlab.models.build_char_lm`).

        Returns
        -------
        rnnlab.models.Network
            Input int32 ids (batch, time); output logits (batch, time, vocab).
        """
        from rnnlab.models import build_char_lm

        net = build_char_lm(model_cfg, self.vocab.size)
        self._state_sizes = [layer.output_shape[1] for layer in net.state_inputs]
        return net

    def batches_per_epoch(self):
        """Number of training batches in one epoch (each ``(batch_size, seq_len)``)."""
        return len(self._batcher("train"))

    def train_batch(self, epoch, index):
        """Batch ``index`` of an epoch: int32 ids ``x`` and next ids ``y``, both (batch, seq_len).

        Every epoch reads the same streams in the same order (``epoch`` is unused): the carried
        state requires batch ``k + 1`` to continue batch ``k``.
        """
        return self._batcher("train").batch(index)

    def initial_states(self, batch_size):
        """Zero states, one ``(batch_size, hidden)`` floatX array per carried state.

        Examples
        --------
        >>> from rnnlab import config
        >>> cfg = config.load(None, ["model.hidden=3", "model.cell=lstm"], check_files=False)
        >>> task = TextTask(cfg, {"kind": "text", "vocabulary": Vocabulary("ab").to_dict()})
        >>> _ = task.network(cfg["model"])
        >>> [s.shape for s in task.initial_states(2)]
        [(2, 3), (2, 3)]
        """
        if self._state_sizes is None:
            raise RuntimeError("initial_states: call network() first (the states depend on it)")
        return [np.zeros((batch_size, size), dtype=_floatx(self.cfg))
                for size in self._state_sizes]

    def evaluate(self, functions, split="val"):
        """Mean next-character loss of a split, carrying the state across its batches.

        Parameters
        ----------
        functions : rnnlab.compile.Functions
            Uses ``evaluate(x, y, *states) -> [loss, *states]``.
        split : {'val', 'test'}
            The part; ``train.eval_batches`` (if > 0) limits the batches read.

        Returns
        -------
        dict
            ``loss`` (nats per character), ``bpc`` (bits per character) and ``perplexity``.
        """
        batcher = self._batcher(split)
        limit = self._train["eval_batches"] or len(batcher)
        states = self.initial_states(batcher.batch_size)
        losses = []
        for index in range(min(limit, len(batcher))):
            x, y = batcher.batch(index)
            outputs = functions.evaluate(x, y, *states)
            losses.append(float(outputs[0]))
            states = list(outputs[1:])
        loss = float(np.mean(losses))
        return {"loss": loss, "bpc": loss / math.log(2),
                "perplexity": math.exp(loss) if loss < 700 else math.inf}

    def on_evaluation(self, session, step, run_dir):
        """Write a text sample to ``run_dir/samples/step_XXXXXX.txt``; return its path in a list.

        The sample (``run.sample_length`` characters at ``run.temperature`` after ``run.prime``)
        is drawn with seed ``step``, so a resumed run writes the same samples.
        """
        from rnnlab.runs import atomic_write_text
        from rnnlab.sample import generate

        run = self.cfg["run"]
        text = generate(session, length=run["sample_length"], temperature=run["temperature"],
                        prime=run["prime"], seed=int(step))
        path = run_dir / "samples" / f"step_{int(step):06d}.txt"
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


class SeriesTask:
    """Forecasting a CSV time series from windows (see the module docstring).

    Parameters
    ----------
    cfg : dict
        A resolved config with ``data.kind = "series"``.
    meta : dict, optional
        A run's ``meta.json``: the network is sized from it and the data, read lazily, must give
        the same split and preprocessing.

    Attributes
    ----------
    kind : str
        ``"series"``.
    prepared : rnnlab.datasets.timeseries.Prepared
        Windows of ``data.horizon`` targets for evaluation (read lazily when ``meta`` is given).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "s.csv"
    >>> _ = path.write_text("t,y\\n" + "".join(f"{i},{10 + i % 4}\\n" for i in range(60)))
    >>> cfg = config.load(None, ["data.kind=series", f"data.path={path}", "data.target=y",
    ...     "data.lookback=8", "data.horizon=4", "data.season=4", "train.batch_size=16",
    ...     "data.val_fraction=0.2", "data.test_fraction=0.2"])
    >>> task = make_task(cfg)
    >>> task.batches_per_epoch(), [a.shape for a in task.train_batch(0, 1)]
    (2, [(9, 8, 1), (9, 4, 1)])
    >>> tmp.cleanup()
    """

    kind = "series"

    def __init__(self, cfg, meta=None):
        self.cfg = cfg
        self._data = cfg["data"]
        self._train = cfg["train"]
        self._meta = meta
        self._orders = {}
        self._prepared = None
        self._fit = None
        if meta is None:
            self._load()
            self.n_features = len(self._prepared.series.columns)
            self.n_targets = self.prepared.series.n_targets
        else:
            saved = meta.get("data") or {}
            try:
                self.n_features = len(saved["columns"])
                self.n_targets = int(saved["n_targets"])
            except (KeyError, TypeError, ValueError):
                raise DataError("meta.json: 'data' lacks columns/n_targets; expected the "
                                "metadata of a series run") from None

    @property
    def recursive(self):
        """Whether the network forecasts one step and is rolled out (``data.strategy``)."""
        return self._data["strategy"] == "recursive"

    def _load(self):
        data = self._data
        series = load_csv(data["path"], data["target"], date=data["date"] or None,
                          covariates=data["covariates"], missing=data["missing"])
        options = dict(lookback=data["lookback"], stride=data["stride"],
                       val=data["val_fraction"], test=data["test_fraction"],
                       transforms=TRANSFORMS[data["transform"]], scaler=data["scaler"])
        if data["val_fraction"] == 0:
            raise DataError(f"{data['path']}: data.val_fraction = 0 leaves no validation rows; "
                            f"training needs a validation part")
        prepared = prepare(series, horizon=data["horizon"], **options)
        fit = prepare(series, horizon=1, **options) if self.recursive else prepared
        if len(prepared.split.train) <= data["season"]:
            raise DataError(f"{data['path']}: data.season = {data['season']} needs more than "
                            f"{data['season']} training rows for MASE; the training part has "
                            f"{len(prepared.split.train)}")
        if self._meta is not None:
            saved = json.loads(json.dumps(self._meta.get("data")))
            if json.loads(json.dumps(prepared.to_dict())) != saved:
                raise DataError(f"{data['path']}: its split or fitted preprocessing differs from "
                                f"the run's meta.json; the data file changed since training")
        self._prepared, self._fit = prepared, fit

    def _ready(self):
        if self._prepared is None:
            self._load()

    @property
    def prepared(self):
        """rnnlab.datasets.timeseries.Prepared: the evaluation windows (data read on first use)."""
        self._ready()
        return self._prepared

    def has_split(self, split):
        """Whether ``split`` (``"val"`` or ``"test"``) holds windows to evaluate."""
        return len({"val": self.prepared.val, "test": self.prepared.test}[split].t) > 0

    def network(self, model_cfg):
        """Build the forecaster (:func:`rnnlab.models.build_forecaster`).

        Returns
        -------
        rnnlab.models.Network
            Input (batch, lookback, features); output (batch, horizon, n_targets), horizon 1
            with ``data.strategy = "recursive"``.
        """
        from rnnlab.models import build_forecaster

        horizon = 1 if self.recursive else self._data["horizon"]
        return build_forecaster(model_cfg, self._data["lookback"], self.n_features, horizon,
                                self.n_targets)

    def batches_per_epoch(self):
        """``ceil(training windows / batch_size)``; the last batch may be smaller."""
        self._ready()
        return math.ceil(len(self._fit.train.t) / self._train["batch_size"])

    def train_batch(self, epoch, index):
        """Windows ``x`` (batch, lookback, features) and targets ``y`` (batch, h, n_targets).

        The windows are shuffled once per epoch by ``np.random.default_rng([seed, epoch])``.
        """
        self._ready()
        if not 0 <= index < self.batches_per_epoch():
            raise ValueError(f"index={index!r}: expected a batch index in "
                             f"[0, {self.batches_per_epoch()})")
        if epoch not in self._orders:
            self._orders = {epoch: np.random.default_rng([self._train["seed"], epoch]).permutation(
                len(self._fit.train.t))}
        size = self._train["batch_size"]
        chosen = self._orders[epoch][index * size:(index + 1) * size]
        return self._fit.train.x[chosen], self._fit.train.y[chosen]

    def initial_states(self, batch_size):
        """No state is carried between windows: ``[]``."""
        return []

    def windows(self, split):
        """The evaluation windows of a split (``"val"`` or ``"test"``), horizon ``data.horizon``."""
        self._ready()
        windows = {"val": self.prepared.val, "test": self.prepared.test}[split]
        if len(windows.t) == 0:
            raise DataError(f"{self._data['path']}: the {split} part holds no window; nothing to "
                            f"evaluate")
        limit = self._train["eval_batches"] * self._train["batch_size"]
        return windows if not limit else type(windows)(*(a[:limit] for a in windows))

    def forecast(self, functions, windows):
        """Scaled forecasts ``(batch, horizon, n_targets)`` for windows, direct or recursive."""
        predict = functions.predict
        if not self.recursive:
            return np.asarray(predict(windows.x)[0])
        prep = self.prepared
        covariates = None
        if self.n_features > self.n_targets:
            values = prep.preprocessor.transform(prep.series.values)
            rows = windows.t[:, None] - prep.preprocessor.offset + np.arange(prep.horizon)
            covariates = values[rows][..., self.n_targets:]
        from rnnlab.datasets.timeseries import recursive_forecast

        return recursive_forecast(lambda x: predict(x)[0], windows.x, prep.horizon, covariates)

    def evaluate(self, functions, split="val"):
        """Forecast a split and score it in scaled and in original units.

        Parameters
        ----------
        functions : rnnlab.compile.Functions
            Uses ``predict(x) -> [yhat]``.
        split : {'val', 'test'}

        Returns
        -------
        dict
            ``loss`` (MSE on scaled values over the horizon), and ``rmse``, ``mae`` and ``mase``
            in the data's units; MASE divides by the in-sample MAE of the seasonal-naive forecast
            (period ``data.season``) on the training rows.
        """
        windows = self.windows(split)
        scaled = self.forecast(functions, windows)
        loss = float(np.mean((scaled.astype(np.float64) - windows.y) ** 2))
        raw = self.prepared.inverse(scaled, windows)
        actual = self.prepared.actuals(windows)
        train = self.prepared.split.train[:, :self.n_targets]
        return {"loss": loss, "rmse": metrics.rmse(actual, raw), "mae": metrics.mae(actual, raw),
                "mase": metrics.mase(actual, raw, train, m=self._data["season"])}

    def on_evaluation(self, session, step, run_dir):
        """Nothing to write at an evaluation (forecast plots come from ``rnnlab.forecast``)."""
        return []

    def meta(self):
        """The JSON-ready metadata saved with a run: split, window sizes, fitted preprocessing.

        Returns
        -------
        dict
            ``kind``, ``data`` (:meth:`Prepared.to_dict`), ``season``, ``strategy`` and ``sizes``
            (windows per part).
        """
        self._ready()
        prep = self.prepared
        return {"kind": self.kind, "data": prep.to_dict(), "season": self._data["season"],
                "strategy": self._data["strategy"],
                "sizes": {"train": len(self._fit.train.t), "val": len(prep.val.t),
                          "test": len(prep.test.t)},
                "batches_per_epoch": self.batches_per_epoch()}
