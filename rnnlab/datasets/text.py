"""Character-level text data: read a UTF-8 file and map its characters to ids and back.

* :func:`read_text` reads a UTF-8 file (``\\n`` newlines) and names the file, byte offset and line
  of anything that is not UTF-8;
* :class:`Vocabulary` is the sorted set of characters, id ``i`` being the ``i``-th character; it
  encodes text to ids, decodes ids to text and round-trips through JSON so a run can save it;
* :func:`load_text_corpus` reads, encodes and splits one file into contiguous train / validation /
  test id arrays, ready for :class:`rnnlab.datasets.batching.StreamBatcher`.
"""

import json
from typing import NamedTuple

import numpy as np

from rnnlab.datasets.batching import split_contiguous
from rnnlab.errors import DataError

__all__ = ["read_text", "Vocabulary", "TextCorpus", "load_text_corpus"]

_ERRORS = ("strict", "replace")


def read_text(path, errors="strict"):
    """Read a UTF-8 text file into a string with ``\\n`` newlines.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    errors : {"strict", "replace"}
        ``"strict"`` raises :class:`~rnnlab.errors.DataError` at the first byte sequence that is
        not UTF-8; ``"replace"`` substitutes U+FFFD for it instead.

    Returns
    -------
    str
        The text; ``\\r\\n`` and ``\\r`` become ``\\n`` and a leading byte-order mark is dropped.

    Raises
    ------
    DataError
        If the file cannot be read, is empty, or (with ``errors="strict"``) is not UTF-8: the
        message names the file, the byte offset and the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_bytes(b"to be,\\r\\nor not")
    >>> read_text(path)
    'to be,\\nor not'
    >>> _ = path.write_bytes(b"caf\\xe9")
    >>> read_text(path)
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: .../tiny.txt: byte 3 (0xe9, line 1) is not valid UTF-8; ...
    >>> read_text(path, errors="replace") == "caf\\ufffd"
    True
    >>> tmp.cleanup()
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors={errors!r}: expected one of {_ERRORS}")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise DataError(f"{path}: cannot read the file ({err.strerror}); expected a UTF-8 "
                        f"text file") from None
    if not data:
        raise DataError(f"{path}: the file is empty; expected UTF-8 text")
    try:
        text = data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataError(f"{path}: byte {err.start} (0x{data[err.start]:02x}, line {line}) is not "
                        f"valid UTF-8; expected a UTF-8 text file (or pass errors='replace')"
                        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise DataError(f"{path}: the file holds only a byte-order mark; expected UTF-8 text")
    return text


def _codepoints(text):
    """Return the code points of ``text`` as a uint32 array (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class Vocabulary:
    """The characters of a corpus, sorted by code point; id ``i`` is the ``i``-th character.

    Parameters
    ----------
    chars : iterable of str
        Distinct single characters, in any order (they are sorted).

    Attributes
    ----------
    chars : tuple of str, shape (size,)
        The characters in id order.

    Examples
    --------
    >>> vocab = Vocabulary.from_text("hello world")
    >>> vocab.chars
    (' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w')
    >>> ids = vocab.encode("hello")
    >>> ids
    array([3, 2, 4, 4, 5], dtype=int32)
    >>> vocab.decode(ids)
    'hello'
    >>> Vocabulary.from_json(vocab.to_json()) == vocab
    True
    """

    def __init__(self, chars):
        if isinstance(chars, str):
            chars = list(chars)
        chars = list(chars)
        for i, char in enumerate(chars):
            if not isinstance(char, str) or len(char) != 1:
                raise ValueError(f"chars[{i}]={char!r}: expected a single character (str of "
                                 f"length 1)")
        if not chars:
            raise ValueError("chars=[]: expected at least one character")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"chars: {repeated!r} repeated; expected distinct characters")
        self.chars = tuple(sorted(chars))
        self._codes = _codepoints("".join(self.chars)).copy()

    @classmethod
    def from_text(cls, text):
        """Build the vocabulary of every distinct character in ``text`` (a non-empty str).

        Examples
        --------
        >>> Vocabulary.from_text("abba").chars
        ('a', 'b')
        """
        if not isinstance(text, str):
            raise TypeError(f"text: got {type(text).__name__}; expected str")
        if not text:
            raise DataError("text is empty; expected at least one character to build a "
                            "vocabulary from")
        return cls(set(text))

    @property
    def size(self):
        """Number of characters (the width of a one-hot vector).

        Examples
        --------
        >>> Vocabulary("abc").size
        3
        """
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def __contains__(self, char):
        return char in self.chars

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.chars == other.chars

    __hash__ = None

    def __repr__(self):
        return f"Vocabulary({''.join(self.chars)!r})"

    def encode(self, text):
        """Map a string to ids.

        Parameters
        ----------
        text : str
            Text whose characters are all in the vocabulary.

        Returns
        -------
        ids : ndarray of int32, shape (len(text),)

        Raises
        ------
        DataError
            Naming the first character not in the vocabulary and its position.

        Examples
        --------
        >>> Vocabulary("ab").encode("abba")
        array([0, 1, 1, 0], dtype=int32)
        >>> Vocabulary("ab").encode("abc")
        Traceback (most recent call last):
        ...
        rnnlab.errors.DataError: character 'c' (U+0063) at position 2 is not in the vocabulary ...
        """
        if not isinstance(text, str):
            raise TypeError(f"text: got {type(text).__name__}; expected str")
        codes = _codepoints(text)
        ids = np.searchsorted(self._codes, codes)
        known = self._codes[np.minimum(ids, len(self._codes) - 1)] == codes
        if not known.all():
            pos = int(np.argmin(known))
            raise DataError(f"character {text[pos]!r} (U+{ord(text[pos]):04X}) at position {pos}"
                            f" is not in the vocabulary of {self.size} characters")
        return ids.astype(np.int32)

    def decode(self, ids):
        """Map ids back to a string.

        Parameters
        ----------
        ids : array_like of int, shape (n,)
            Ids in ``[0, size)``.

        Returns
        -------
        str
            The ``n`` characters.

        Examples
        --------
        >>> Vocabulary("ab").decode([1, 0, 0])
        'baa'
        >>> Vocabulary("ab").decode([0, 2])
        Traceback (most recent call last):
        ...
        ValueError: ids[1]=2: expected an id in [0, 2)
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
            raise TypeError(f"ids: got dtype {ids.dtype} with shape {ids.shape}; expected a 1-D "
                            f"integer array")
        bad = (ids < 0) | (ids >= self.size)
        if bad.any():
            pos = int(np.argmax(bad))
            raise ValueError(f"ids[{pos}]={ids[pos]}: expected an id in [0, {self.size})")
        codes = self._codes[ids.astype(np.intp)]
        return codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")

    def to_dict(self):
        """Return a JSON-ready dict ``{"format": ..., "version": 1, "chars": [...]}``.

        Examples
        --------
        >>> Vocabulary("ba").to_dict()
        {'format': 'rnnlab.vocabulary', 'version': 1, 'chars': ['a', 'b']}
        """
        return {"format": "rnnlab.vocabulary", "version": 1, "chars": list(self.chars)}

    @classmethod
    def from_dict(cls, data, source="vocabulary"):
        """Rebuild a vocabulary from :meth:`to_dict`'s output; ``source`` names it in errors.

        Raises
        ------
        DataError
            If ``data`` is not a version-1 vocabulary with distinct, sorted single characters.

        Examples
        --------
        >>> Vocabulary.from_dict({"format": "rnnlab.vocabulary", "version": 1, "chars": ["a"]})
        Vocabulary('a')
        """
        if not isinstance(data, dict) or data.get("format") != "rnnlab.vocabulary":
            raise DataError(f"{source}: expected a JSON object with format 'rnnlab.vocabulary'")
        if data.get("version") != 1:
            raise DataError(f"{source}: version={data.get('version')!r}; expected 1")
        chars = data.get("chars")
        if not isinstance(chars, list):
            raise DataError(f"{source}: 'chars' is {type(chars).__name__}; expected a list")
        try:
            vocab = cls(chars)
        except ValueError as err:
            raise DataError(f"{source}: {err}") from None
        if list(vocab.chars) != chars:
            raise DataError(f"{source}: 'chars' is not sorted by code point; the ids would not "
                            f"match the ones it was saved with")
        return vocab

    def to_json(self):
        """Return the vocabulary as a JSON string (non-ASCII characters are escaped).

        Examples
        --------
        >>> Vocabulary("\\né").to_json()
        '{"format": "rnnlab.vocabulary", "version": 1, "chars": ["\\\\n", "\\\\u00e9"]}'
        """
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text, source="vocabulary"):
        """Rebuild a vocabulary from :meth:`to_json`'s output; ``source`` names it in errors.

        Examples
        --------
        >>> Vocabulary.from_json('{"format": "rnnlab.vocabulary", "version": 1, "chars": ["x"]}')
        Vocabulary('x')
        >>> Vocabulary.from_json('{"chars": 3', source="run/vocab.json")
        Traceback (most recent call last):
        ...
        rnnlab.errors.DataError: run/vocab.json: not valid JSON (...)
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{source}: not valid JSON ({err})") from None
        return cls.from_dict(data, source=source)


class TextCorpus(NamedTuple):
    """A character corpus ready for batching: its vocabulary and three id arrays.

    Attributes
    ----------
    vocab : Vocabulary
        Built from the whole file (unless one was given), so every part encodes.
    train, val, test : ndarray of int32, shapes (n_train,), (n_val,), (n_test,)
        Contiguous parts of the encoded file, in file order.

    Examples
    --------
    >>> vocab = Vocabulary("ab")
    >>> corpus = TextCorpus(vocab, vocab.encode("abba"), vocab.encode("ab"), vocab.encode("b"))
    >>> corpus.train, corpus.train.shape, vocab.decode(corpus.val)
    (array([0, 1, 1, 0], dtype=int32), (4,), 'ab')
    >>> _, train, val, test = corpus  # a named tuple: it unpacks in this order
    >>> test.shape
    (1,)
    """

    vocab: Vocabulary
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def load_text_corpus(path, val=0.05, test=0.05, errors="strict", vocab=None):
    """Read, encode and split a UTF-8 text file.

    Parameters
    ----------
    path : str or os.PathLike
        The text file.
    val, test : float
        Fractions of the characters for the validation and test parts, taken from the end of
        the file (see :func:`~rnnlab.datasets.batching.split_contiguous`).
    errors : {"strict", "replace"}
        How undecodable bytes are handled (see :func:`read_text`).
    vocab : Vocabulary, optional
        A saved vocabulary to encode with (when resuming a run); by default the file's own.

    Returns
    -------
    TextCorpus
        ``(vocab, train, val, test)``; the parts are int32 ids of shape (n_part,).

    Raises
    ------
    DataError
        Naming the file: unreadable, empty, not UTF-8, a character missing from ``vocab``, or a
        part too short.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "abc.txt"
    >>> _ = path.write_text("abc" * 10)
    >>> corpus = load_text_corpus(path, val=0.1, test=0.1)
    >>> corpus.vocab.chars, corpus.train.shape, corpus.val.shape, corpus.test.shape
    (('a', 'b', 'c'), (24,), (3,), (3,))
    >>> corpus.vocab.decode(corpus.test)
    'abc'
    >>> tmp.cleanup()
    """
    text = read_text(path, errors=errors)
    if vocab is None:
        vocab = Vocabulary.from_text(text)
    try:
        ids = vocab.encode(text)
    except DataError as err:
        raise DataError(f"{path}: {err}") from None
    return TextCorpus(vocab, *split_contiguous(ids, val=val, test=test, name=str(path)))
