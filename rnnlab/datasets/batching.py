"""Cut an id sequence into contiguous parts and into truncated-BPTT batches of parallel streams.

* :func:`split_contiguous` cuts a corpus into train / validation / test parts, in order;
* :func:`split_files` assigns whole documents (files) to the three parts instead, drawn by a seed;
* :class:`StreamBatcher` cuts one part into ``batch_size`` parallel streams read ``seq_len`` ids
  at a time, so a recurrent network can carry its hidden state from one batch to the next
  (char-rnn's and PyTorch ``word_language_model``'s scheme, diagram in its docstring);
* :func:`one_hot_ids` turns ids into float32 one-hot vectors.
"""

import numbers

import numpy as np

from rnnlab.errors import DataError

__all__ = ["split_contiguous", "split_files", "StreamBatcher", "one_hot_ids"]


def _positive_int(argument, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{argument}={value!r}: expected a positive integer")
    return int(value)


def _fraction(argument, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{argument}={value!r}: expected a fraction in [0, 1)")
    return float(value)


def split_contiguous(seq, val=0.05, test=0.05, min_length=2, name="text"):
    """Cut a sequence into contiguous train, validation and test parts, in that order.

    The test part is the last ``round(test * n)`` items, the validation part the
    ``round(val * n)`` items before it and the training part everything before that. Nothing is
    shuffled, so validation and test text follow the training text and never overlap it.

    Parameters
    ----------
    seq : str or ndarray, shape (n,)
        The corpus (characters or ids).
    val, test : float
        Fractions in ``[0, 1)``; 0 asks for no such part (it comes back empty).
    min_length : int
        Fewest items a part may have (training always; validation and test when asked for).
        The default 2 is the least that gives one (input, target) pair.
    name : str
        What ``seq`` is (e.g. its file name), for error messages.

    Returns
    -------
    tuple (train, val, test)
        Slices of ``seq``, shapes (n_train,), (n_val,), (n_test,); joined they are ``seq``.

    Raises
    ------
    DataError
        If a part would be shorter than ``min_length``.

    Examples
    --------
    >>> split_contiguous("abcdefghij", val=0.2, test=0.2)
    ('abcdef', 'gh', 'ij')
    >>> split_contiguous(np.arange(10), val=0.1, test=0.1, name="tiny.txt")
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: tiny.txt: the validation part would have 1 of 10 items ...
    """
    val, test = _fraction("val", val), _fraction("test", test)
    min_length = _positive_int("min_length", min_length)
    n = len(seq)
    n_test = int(round(test * n))
    n_val = int(round(val * n))
    n_train = n - n_val - n_test
    for part, size, fraction in (("training", n_train, None), ("validation", n_val, val),
                                 ("test", n_test, test)):
        if size < min_length and fraction != 0:
            asked = "" if fraction is None else f" (fraction {fraction:g})"
            raise DataError(f"{name}: the {part} part would have {max(size, 0)} of {n} items"
                            f"{asked}; expected at least {min_length}")
    return seq[:n_train], seq[n_train:n_train + n_val], seq[n_train + n_val:]


def split_files(sizes, val=0.05, test=0.05, seed=0, name="data"):
    """Assign whole documents to train, validation and test parts, drawn by a seed.

    The documents are shuffled by ``seed`` (numpy's ``RandomState``, whose stream never changes
    between versions).  Walking that order, the test part takes each document that still fits in
    ``test`` of all the items, then the validation part likewise with ``val``; the training part
    keeps the rest.  A part that is asked for but that no document fits gets the smallest one
    left, and the training part always keeps at least one, so no part is empty and no document
    is ever in two parts.

    Parameters
    ----------
    sizes : sequence of int
        Items (characters) per document, in document order.
    val, test : float
        Fractions in ``[0, 1)`` of all the items; 0 asks for no such part.
    seed : int
        Seeds the draw; the same seed and sizes give the same parts.
    name : str
        What the documents are (e.g. ``data.path``), for error messages.

    Returns
    -------
    tuple (train, val, test) of list of int
        The documents' indices in each part, in document order.

    Raises
    ------
    DataError
        If there are fewer documents than parts asked for.

    Examples
    --------
    >>> split_files([100] * 10, val=0.2, test=0.1, seed=0)
    ([0, 1, 3, 5, 6, 7, 9], [4, 8], [2])
    >>> split_files([1000, 10, 10, 10], val=0.1, test=0.1, seed=1)   # the large one trains
    ([0], [1], [2, 3])
    >>> split_files([100, 100], val=0.1, test=0.1, name="notes/")
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: notes/: data.split_by = 'file' needs at least 3 files (train, ...
    """
    val, test = _fraction("val", val), _fraction("test", test)
    sizes = [int(size) for size in sizes]
    asked = [("test", test), ("val", val)]
    need = 1 + sum(fraction > 0 for _, fraction in asked)
    if len(sizes) < need:
        parts = ", ".join(["train"] + [part for part, fraction in reversed(asked) if fraction > 0])
        raise DataError(f"{name}: data.split_by = 'file' needs at least {need} files ({parts}: "
                        f"one each); found {len(sizes)}")
    order = [int(i) for i in np.random.RandomState(seed).permutation(len(sizes))]
    total, chosen = sum(sizes), {"test": [], "val": []}
    for index, (part, fraction) in enumerate(asked):
        if fraction == 0:
            continue
        later = 1 + sum(f > 0 for _, f in asked[index + 1:])      # documents still needed after
        room = fraction * total
        for document in list(order):
            if len(order) == later:
                break
            if sizes[document] <= room:
                order.remove(document)
                chosen[part].append(document)
                room -= sizes[document]
        if not chosen[part]:
            smallest = min(order, key=lambda document: sizes[document])
            order.remove(smallest)
            chosen[part].append(smallest)
    return sorted(order), sorted(chosen["val"]), sorted(chosen["test"])


def one_hot_ids(ids, vocab_size):
    """Return one-hot float32 vectors for integer ids.

    Parameters
    ----------
    ids : array_like of int, any shape (...)
        Ids in ``[0, vocab_size)``.
    vocab_size : int
        Length of each one-hot vector.

    Returns
    -------
    ndarray of float32, shape (..., vocab_size)

    Examples
    --------
    >>> one_hot_ids([[2, 0]], 3)
    array([[[0., 0., 1.],
            [1., 0., 0.]]], dtype=float32)
    """
    vocab_size = _positive_int("vocab_size", vocab_size)
    ids = np.asarray(ids)
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids: got dtype {ids.dtype}; expected integer ids")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise ValueError(f"ids: contains {bad}; expected ids in [0, {vocab_size})")
    return np.eye(vocab_size, dtype=np.float32)[ids.astype(np.intp)]


class StreamBatcher:
    """Truncated-BPTT batches: ``batch_size`` parallel streams read ``seq_len`` ids at a time.

    The corpus is cut into ``batch_size`` equal, contiguous streams; batch ``k`` holds chunk
    ``k`` of every stream, and each target is the id that follows its input. With the 26
    letters as the corpus, ``batch_size=3`` and ``seq_len=4``::

        corpus     a b c d e f g h i j k l m n o p q r s t u v w x y z

        stream 0   a b c d e f g h (i)     each stream holds stream_len = 8 inputs; the
        stream 1   i j k l m n o p (q)     id after its last input, in brackets, is that
        stream 2   q r s t u v w x (y)     input's target.  z is unused (the tail that does
                                           not fill another batch_size x seq_len block)

                      batch 0                 batch 1
                   inputs   targets        inputs   targets
        stream 0   a b c d  b c d e        e f g h  f g h i
        stream 1   i j k l  j k l m        m n o p  n o p q
        stream 2   q r s t  r s t u        u v w x  v w x y

    Row ``b`` of batch ``k + 1`` continues row ``b`` of batch ``k``, so the hidden state a network
    ends batch ``k`` with is the right initial state for batch ``k + 1``; reset it at batch 0.
    One epoch (``len(batcher)`` batches) reads every one of the first
    ``n_used = batch_size * stream_len`` ids exactly once as an input, in order within each
    stream, and every one of ids ``1 .. n_used`` exactly once as a target; no pair
    (input, next id) is lost at the stream boundaries. All batches have the same shape.

    Parameters
    ----------
    ids : array_like of int, shape (n,)
        The corpus part to batch (e.g. ``TextCorpus.train``), ids >= 0.
    batch_size : int
        Number of parallel streams (rows of a batch).
    seq_len : int
        Time steps per batch (the truncated-BPTT length).
    one_hot : bool
        If True, inputs are one-hot float32 vectors (needs ``vocab_size``); targets stay ids.
    vocab_size : int, optional
        Vocabulary size; when given, ids must be below it.
    name : str
        What ``ids`` is (e.g. "data/shakespeare.txt (training part)"), for error messages.

    Attributes
    ----------
    n_batches : int
        Batches per epoch, ``(n - 1) // (batch_size * seq_len)``; also ``len(batcher)``.
    stream_len : int
        Inputs per stream and epoch, ``n_batches * seq_len``.
    n_used : int
        Ids read as inputs per epoch, ``batch_size * stream_len``.

    Raises
    ------
    DataError
        If ``ids`` is empty or shorter than ``batch_size * seq_len + 1``.

    Examples
    --------
    >>> letters = np.arange(26)                    # a = 0, b = 1, ..., z = 25
    >>> batcher = StreamBatcher(letters, batch_size=3, seq_len=4)
    >>> len(batcher), batcher.stream_len, batcher.n_used
    (2, 8, 24)
    >>> inputs, targets = batcher.batch(1)         # shapes (batch_size, seq_len)
    >>> inputs
    array([[ 4,  5,  6,  7],
           [12, 13, 14, 15],
           [20, 21, 22, 23]], dtype=int32)
    >>> targets[:, -1]
    array([ 8, 16, 24], dtype=int32)
    >>> [int(x[0, 0]) for x, _ in batcher.iter_from(1)]  # resume a run at batch 1
    [4]
    >>> x, y = StreamBatcher(letters, 3, 4, one_hot=True, vocab_size=26).batch(0)
    >>> x.shape, x.dtype, y.shape
    ((3, 4, 26), dtype('float32'), (3, 4))
    """

    def __init__(self, ids, batch_size, seq_len, one_hot=False, vocab_size=None, name="ids"):
        self.batch_size = _positive_int("batch_size", batch_size)
        self.seq_len = _positive_int("seq_len", seq_len)
        self.vocab_size = None if vocab_size is None else _positive_int("vocab_size", vocab_size)
        if one_hot and self.vocab_size is None:
            raise ValueError("one_hot=True: expected vocab_size, the length of a one-hot vector")
        self.one_hot = bool(one_hot)
        self.name = name
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise TypeError(f"ids: got dtype {ids.dtype} with shape {ids.shape}; expected a 1-D "
                            f"integer array")
        n = len(ids)
        if n == 0:
            raise DataError(f"{name}: empty; expected at least batch_size * seq_len + 1 = "
                            f"{self.batch_size * self.seq_len + 1} ids")
        if ids.min() < 0 or (self.vocab_size is not None and ids.max() >= self.vocab_size):
            limit = "" if self.vocab_size is None else f" and below vocab_size={self.vocab_size}"
            raise ValueError(f"ids: range [{ids.min()}, {ids.max()}]; expected ids >= 0{limit}")
        self.n_batches = (n - 1) // (self.batch_size * self.seq_len)
        if self.n_batches == 0:
            raise DataError(f"{name}: {n} ids are too few for batch_size={self.batch_size} and "
                            f"seq_len={self.seq_len}; expected at least "
                            f"{self.batch_size * self.seq_len + 1}")
        self.stream_len = self.n_batches * self.seq_len
        self.n_used = self.batch_size * self.stream_len
        # Row b is stream b with the target of its last input: ids[b*L : (b+1)*L + 1].
        rows = np.arange(self.batch_size)[:, None] * self.stream_len
        self._streams = ids[rows + np.arange(self.stream_len + 1)].astype(np.int32)

    def __len__(self):
        return self.n_batches

    def __repr__(self):
        return (f"StreamBatcher({self.name!r}, batch_size={self.batch_size}, "
                f"seq_len={self.seq_len}, n_batches={self.n_batches})")

    def batch(self, index):
        """Return batch ``index`` of an epoch.

        Parameters
        ----------
        index : int
            In ``[0, n_batches)``.

        Returns
        -------
        inputs : ndarray
            int32 ids of shape (batch_size, seq_len), or float32 one-hot vectors of shape
            (batch_size, seq_len, vocab_size) when ``one_hot`` is set.
        targets : ndarray of int32, shape (batch_size, seq_len)
            The id that follows each input.

        Examples
        --------
        >>> inputs, targets = StreamBatcher(np.arange(9), 2, 2).batch(0)
        >>> inputs.tolist(), targets.tolist()
        ([[0, 1], [4, 5]], [[1, 2], [5, 6]])
        """
        if (isinstance(index, bool) or not isinstance(index, numbers.Integral)
                or not 0 <= index < self.n_batches):
            raise ValueError(f"index={index!r}: expected a batch index in [0, {self.n_batches})")
        start = int(index) * self.seq_len
        inputs = self._streams[:, start:start + self.seq_len].copy()
        targets = self._streams[:, start + 1:start + self.seq_len + 1].copy()
        if self.one_hot:
            inputs = one_hot_ids(inputs, self.vocab_size)
        return inputs, targets

    def iter_from(self, start=0):
        """Yield ``(inputs, targets)`` for batches ``start, ..., n_batches - 1`` of an epoch.

        To resume a run exactly after ``step`` batches in all, use ``start = step % len(self)``
        (the epoch is ``step // len(self)``); ``start == n_batches`` yields nothing.

        Examples
        --------
        >>> batcher = StreamBatcher(np.arange(13), 2, 2)
        >>> [inputs[:, 0].tolist() for inputs, _ in batcher.iter_from(1)]
        [[2, 8], [4, 10]]
        """
        if (isinstance(start, bool) or not isinstance(start, numbers.Integral)
                or not 0 <= start <= self.n_batches):
            raise ValueError(f"start={start!r}: expected a batch index in [0, {self.n_batches}]")
        for index in range(int(start), self.n_batches):
            yield self.batch(index)

    def __iter__(self):
        """Iterate over one epoch, from batch 0 (see :meth:`iter_from`)."""
        return self.iter_from(0)
