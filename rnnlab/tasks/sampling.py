"""Sampling from a character language model: temperature, top-k/top-p, greedy, one step a call.

Used by ``python -m rnnlab.sample`` (:mod:`rnnlab.commands.sample`) and by the training loop's
periodic samples (:meth:`rnnlab.tasks.text.TextTask.on_evaluation`).

Generation runs the compiled ``predict`` function on one character at a time (batch 1, time 1),
carrying the hidden (and LSTM cell) state from call to call, exactly as the model saw its
training stream::

    prime "To b"   ->  T  o  ' '  b  | e  ,  ...        (fed, then generated)
    states         ->  s0 s1  s2  s3 | s4 s5 ...        (each call returns the next state)

Each next character is drawn from the model's distribution sharpened or flattened by a
temperature, ``softmax(log p / T)`` (``T < 1`` is more conservative, ``T > 1`` more adventurous),
and optionally cut to the ``top_k`` most probable characters and to the smallest set of them
whose probability reaches ``top_p`` (nucleus sampling), or taken greedily with ``argmax``.  The
draws come from a seeded :class:`numpy.random.Generator`, one uniform number per character, so
the same run, checkpoint, prime, settings and seed always give the same text.
"""

import numbers

import numpy as np

from rnnlab.errors import DataError

__all__ = ["rescale", "truncate", "generate", "stream"]


def rescale(probs, temperature=1.0):
    """Sharpen or flatten a probability vector: ``softmax(log(probs) / temperature)``.

    Parameters
    ----------
    probs : array_like, shape (vocab,)
        Probabilities (non-negative, not all zero; they need not sum exactly to 1).
    temperature : float
        ``> 0``; 1 leaves the distribution as it is, values towards 0 approach the argmax
        (one-hot) and large values approach the uniform distribution over the characters with
        non-zero probability.

    Returns
    -------
    numpy.ndarray, shape (vocab,), float64
        Non-negative, summing to 1; zero where ``probs`` is zero.

    Examples
    --------
    >>> rescale([0.2, 0.8], temperature=0.5)
    array([0.05882353, 0.94117647])
    >>> rescale([0.2, 0.8, 0.0], temperature=1e6).round(3)
    array([0.5, 0.5, 0. ])
    """
    if (not isinstance(temperature, numbers.Real) or isinstance(temperature, bool)
            or not np.isfinite(temperature) or temperature <= 0):
        raise ValueError(f"temperature: expected a finite number > 0, got {temperature!r}")
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 1 or probs.size == 0:
        raise ValueError(f"probs: expected shape (vocab,), got {probs.shape}")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or not np.any(probs > 0):
        raise ValueError("probs: expected finite, non-negative probabilities, not all zero")
    with np.errstate(divide="ignore"):
        logits = np.log(probs) / temperature
    logits -= logits.max()
    weights = np.exp(logits)
    return weights / weights.sum()


def _check_cut(top_k, top_p):
    if not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool) or top_k < 0:
        raise ValueError(f"top_k: expected an int >= 0 (0 = every character), got {top_k!r}")
    if (not isinstance(top_p, numbers.Real) or isinstance(top_p, bool)
            or not np.isfinite(top_p) or not 0 < top_p <= 1):
        raise ValueError(f"top_p: expected a number in (0, 1] (1 = every character), got "
                         f"{top_p!r}")


def truncate(probs, top_k=0, top_p=1.0):
    """Keep the most probable characters only, and renormalise.

    First the ``top_k`` most probable (ties: the lower id first), then of those the smallest
    set, taken in order of probability, whose total reaches ``top_p`` of the kept mass
    (nucleus sampling, Holtzman et al. 2020).  The most probable character is always kept.

    Parameters
    ----------
    probs : array_like, shape (vocab,)
        Non-negative, not all zero (need not sum to 1).
    top_k : int
        ``>= 0``; 0 keeps every character.
    top_p : float
        In ``(0, 1]``; 1 keeps every character.

    Returns
    -------
    numpy.ndarray, shape (vocab,), float64
        Summing to 1, zero outside the kept characters.

    Examples
    --------
    >>> truncate([0.1, 0.5, 0.3, 0.1], top_k=2)
    array([0.   , 0.625, 0.375, 0.   ])
    >>> truncate([0.1, 0.5, 0.3, 0.1], top_p=0.7)  # 0.5 < 0.7 <= 0.5 + 0.3
    array([0.   , 0.625, 0.375, 0.   ])
    >>> truncate([0.1, 0.5, 0.3, 0.1], top_p=0.5)
    array([0., 1., 0., 0.])
    """
    _check_cut(top_k, top_p)
    probs = rescale(probs, 1.0)
    order = np.argsort(-probs, kind="stable")
    keep = len(probs) if top_k == 0 else min(top_k, len(probs))
    if top_p < 1:
        head = probs[order[:keep]]
        # (1 - 1e-12): 0.5 + 0.3 summed in floating point still reaches top_p = 0.8
        reached = np.cumsum(head) >= top_p * head.sum() * (1 - 1e-12)
        keep = min(keep, int(np.argmax(reached)) + 1)
    kept = np.zeros_like(probs)
    kept[order[:keep]] = probs[order[:keep]]
    return kept / kept.sum()


def _next_id(probs, temperature, rng, argmax, top_k=0, top_p=1.0):
    """One character id from a probability vector (greedy, or a draw after rescaling)."""
    if argmax:
        return int(np.argmax(probs))
    # Inverse-CDF draw: exactly one uniform number per generated character.  At temperature 1
    # the rescaling is a division by the sum, folded into the uniform number.
    weights = probs if temperature == 1 else rescale(probs, temperature)
    if top_k or top_p < 1:
        weights = truncate(weights, top_k, top_p)
    cdf = np.cumsum(weights, dtype=np.float64)
    total = cdf[-1]
    if not (np.isfinite(total) and total > 0):
        raise ValueError("probs: expected finite, non-negative probabilities, not all zero")
    return int(min(np.searchsorted(cdf, rng.random() * total, side="right"), len(cdf) - 1))


def _check_kind(session, command="sample"):
    kind = getattr(session.task, "kind", None)
    if kind != "text":
        raise DataError(f"{command} needs a text run (data.kind='text'); this run has "
                        f"data.kind={kind!r} (use python -m rnnlab.forecast for series runs)")


def generate(session, length=200, temperature=1.0, prime="", seed=0, argmax=False, top_k=0,
             top_p=1.0):
    """Generate text from a character language model, one character per ``predict`` call.

    The whole text at once; :func:`stream` yields the same text piece by piece, as it is made.

    The prime text is fed first, one character at a time, carrying the recurrent state; then
    ``length`` characters are generated, each fed back as the next input.  With no prime, the
    first character is drawn uniformly from the vocabulary (as char-rnn does), so it too depends
    on ``seed``.

    Parameters
    ----------
    session : rnnlab.training.session.Session
        A text session (``session.task.kind == "text"``): its ``functions.predict`` maps ids
        (1, 1) int32 and the states (1, hidden) to ``[probs (1, 1, vocab), *states]`` and its
        ``functions.initial_states(1)`` gives the zero states.
    length : int
        Characters to generate (>= 0), not counting the prime.
    temperature : float
        ``> 0``; see :func:`rescale`.  Ignored when ``argmax`` is true.
    prime : str
        Text to condition on; every character must be in the run's vocabulary.
    seed : int
        Seed of the :class:`numpy.random.Generator` that draws the characters.
    argmax : bool
        Take the most probable character at every step (greedy decoding) instead of drawing one.
    top_k, top_p : int, float
        Draw from the ``top_k`` most probable characters only (0 = all), and of those from the
        smallest set reaching probability ``top_p`` (1 = all), after the temperature; see
        :func:`truncate`.  Ignored when ``argmax`` is true.

    Returns
    -------
    str
        ``prime`` followed by the ``length`` generated characters.

    Raises
    ------
    DataError
        If the session is not a text run, or naming the first prime character not in the
        vocabulary.
    ValueError
        For a bad ``length``, ``temperature``, ``seed``, ``top_k`` or ``top_p``.

    Examples
    --------
    A stand-in "model" that always predicts the character after the input (cyclically):

    >>> from types import SimpleNamespace
    >>> from rnnlab.datasets.text import Vocabulary
    >>> vocab = Vocabulary("abc")
    >>> def predict(x, state):
    ...     probs = np.eye(3)[(x + 1) % 3]                     # (1, 1, vocab)
    ...     return [probs, state + 1]
    >>> task = SimpleNamespace(kind="text", vocab=vocab)
    >>> functions = SimpleNamespace(
    ...     predict=predict, initial_states=lambda batch: [np.zeros((batch, 4), "float32")])
    >>> session = SimpleNamespace(task=task, functions=functions)
    >>> generate(session, length=5, prime="b", temperature=0.5)
    'bcabca'
    """
    return "".join(stream(session, length, temperature, prime, seed, argmax, top_k, top_p))


#: Characters :func:`stream` generates between two pieces it yields.
CHUNK = 64


def stream(session, length=200, temperature=1.0, prime="", seed=0, argmax=False, top_k=0,
           top_p=1.0):
    """Generate text as :func:`generate` does, yielding it in pieces as it is made.

    The prime comes first (when not empty), then the generated characters, :data:`CHUNK` at a
    time: a long sample shows as it grows, and an interrupted one keeps what was made.  The
    pieces joined are exactly :func:`generate`'s text for the same arguments.

    Parameters
    ----------
    session, length, temperature, prime, seed, argmax, top_k, top_p
        As for :func:`generate`; they are checked before the first piece.

    Yields
    ------
    str
        The prime, then pieces of at most :data:`CHUNK` generated characters.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from rnnlab.datasets.text import Vocabulary
    >>> vocab = Vocabulary("ab")
    >>> session = SimpleNamespace(task=SimpleNamespace(kind="text", vocab=vocab),
    ...     functions=SimpleNamespace(predict=lambda x, s: [np.eye(2)[(x + 1) % 2], s],
    ...                               initial_states=lambda batch: [np.zeros((batch, 1))]))
    >>> [len(piece) for piece in stream(session, length=150, prime="a", argmax=True)]
    [1, 64, 64, 22]
    """
    _check_kind(session)
    if not isinstance(length, numbers.Integral) or isinstance(length, bool) or length < 0:
        raise ValueError(f"length: expected an int >= 0, got {length!r}")
    if not argmax:
        rescale([1.0], temperature)  # validates the temperature before any work
        _check_cut(top_k, top_p)
    if not isinstance(prime, str):
        raise TypeError(f"prime: expected str, got {type(prime).__name__}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
    vocab = session.task.vocab
    try:
        ids = [int(i) for i in vocab.encode(prime)]
    except DataError as err:
        raise DataError(f"prime: {err}") from None
    if prime:
        yield prime
    if length == 0:
        return
    rng = np.random.default_rng(seed)
    predict = session.functions.predict
    states = list(session.functions.initial_states(1))
    x = np.zeros((1, 1), dtype=np.int32)
    # The inputs are the function's own outputs and ``x``, of the right types: skip PyTensor's
    # per-call input checks (a third of a small model's per-character time).
    trusted = getattr(predict, "trust_input", None)
    if trusted is not None:
        predict.trust_input = True
    try:
        made, piece = 0, []
        if not ids:
            ids = [int(rng.integers(vocab.size))]
            piece.append(ids[0])
            made = 1
        for index in ids:
            probs, states = _step(predict, x, index, states)
        while made < length:
            index = _next_id(probs, temperature, rng, argmax, top_k, top_p)
            piece.append(index)
            made += 1
            if len(piece) == CHUNK or made == length:
                yield vocab.decode(np.asarray(piece, dtype=np.int64))
                piece = []
            if made < length:
                probs, states = _step(predict, x, index, states)
        if piece:  # length 1 with no prime: the uniform first character only
            yield vocab.decode(np.asarray(piece, dtype=np.int64))
    finally:
        if trusted is not None:
            predict.trust_input = trusted


def _step(predict, x, index, states):
    """Feed one id (through ``x``, (1, 1) int32); return the probabilities (vocab,), states."""
    x[0, 0] = index
    outputs = predict(x, *states)
    return outputs[0][0, -1], list(outputs[1:])
