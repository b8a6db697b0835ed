"""Tests for rnnlab.datasets.text: reading UTF-8 files, the vocabulary, encode/decode, loading."""

import json
from pathlib import Path

import numpy as np
import pytest

from rnnlab.datasets.text import Vocabulary, load_text_corpus, read_text
from rnnlab.errors import DataError

SHAKESPEARE = Path(__file__).resolve().parents[2] / "data" / "shakespeare.txt"

# Characters that break naive implementations: newline, quote, backslash, a JSON line separator,
# a combining accent, a character outside the Basic Multilingual Plane and a lone surrogate.
TRICKY = "\n\"\\ \u2028e\u0301\U0001F600\ud800"


# ------------------------------------------------------------------------------ read_text

def test_read_text_normalises_newlines_and_bom(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffone\r\ntwo\rthree\n\u00e9".encode("utf-8"))
    assert read_text(path) == "one\ntwo\nthree\n\u00e9"


def test_read_text_names_file_byte_offset_and_line_of_undecodable_byte(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"line one\nna\xefve\n")
    with pytest.raises(DataError, match=r"latin1\.txt: byte 11 \(0xef, line 2\) is not valid "
                                        r"UTF-8"):
        read_text(path)
    assert read_text(path, errors="replace") == "line one\nna\ufffdve\n"


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"], ids=["empty", "only-bom"])
def test_read_text_rejects_empty_file_naming_it(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"empty\.txt: .*expected UTF-8 text"):
        read_text(path)


def test_read_text_bad_arguments(tmp_path):
    with pytest.raises(DataError, match=r"missing\.txt: cannot read the file"):
        read_text(tmp_path / "missing.txt")
    (tmp_path / "a.txt").write_text("a")
    with pytest.raises(ValueError, match=r"errors='ignore': expected one of"):
        read_text(tmp_path / "a.txt", errors="ignore")


# ------------------------------------------------------------------------------ Vocabulary

def test_vocabulary_is_sorted_and_ids_follow_its_order():
    vocab = Vocabulary.from_text("banana split")
    assert vocab.chars == tuple(sorted(set("banana split")))
    assert len(vocab) == vocab.size == 9
    ids = vocab.encode("banana split")
    assert ids.dtype == np.int32 and ids.shape == (12,)
    np.testing.assert_array_equal(ids, [vocab.chars.index(c) for c in "banana split"])


def test_encode_decode_round_trip_on_tricky_text():
    text = TRICKY * 3 + "plain ascii"
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    assert len(ids) == len(text)
    assert vocab.decode(ids) == text
    assert vocab.decode(np.array([], dtype=np.int32)) == ""


def test_encode_decode_round_trip_on_shipped_corpus():
    text = read_text(SHAKESPEARE)
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    assert ids.min() == 0 and ids.max() == vocab.size - 1
    assert vocab.decode(ids) == text


def test_vocabulary_json_round_trip_is_exact(tmp_path):
    vocab = Vocabulary.from_text(TRICKY + "abc")
    path = tmp_path / "vocab.json"
    path.write_text(vocab.to_json(), encoding="utf-8")
    again = Vocabulary.from_json(path.read_text(encoding="utf-8"))
    assert again == vocab and again.chars == vocab.chars
    np.testing.assert_array_equal(again.encode(TRICKY), vocab.encode(TRICKY))
    assert Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab


def test_encode_names_unknown_character_and_position():
    vocab = Vocabulary("abc")
    with pytest.raises(DataError, match="character '\U0001F600' \\(U\\+1F600\\) at position 4 "
                                        "is not in the vocabulary of 3 characters"):
        vocab.encode("abca\U0001F600b")
    with pytest.raises(DataError, match=r"character 'd' \(U\+0064\) at position 0"):
        vocab.encode("d")


def test_decode_rejects_ids_out_of_range_and_non_integers():
    vocab = Vocabulary("ab")
    with pytest.raises(ValueError, match=r"ids\[2\]=-1: expected an id in \[0, 2\)"):
        vocab.decode([0, 1, -1])
    with pytest.raises(TypeError, match="expected a 1-D integer array"):
        vocab.decode([0.0, 1.0])


@pytest.mark.parametrize("chars, message", [
    ("", "expected at least one character"),
    (["a", "bc"], r"chars\[1\]='bc': expected a single character"),
    (["a", "b", "a"], r"\['a'\] repeated"),
])
def test_vocabulary_rejects_bad_chars(chars, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary(chars)


@pytest.mark.parametrize("data, message", [
    ({"format": "rnnlab.vocabulary", "version": 1, "chars": ["b", "a"]}, "not sorted"),
    ({"format": "rnnlab.vocabulary", "version": 2, "chars": ["a"]}, "version=2; expected 1"),
    ({"format": "other", "version": 1, "chars": ["a"]}, "expected a JSON object with format"),
    ({"format": "rnnlab.vocabulary", "version": 1, "chars": ["a", "a"]}, "repeated"),
    ({"format": "rnnlab.vocabulary", "version": 1, "chars": "ab"}, "expected a list"),
])
def test_vocabulary_from_dict_rejects_corrupt_data_naming_source(data, message):
    with pytest.raises(DataError, match=rf"run/vocab\.json: .*{message}"):
        Vocabulary.from_dict(data, source="run/vocab.json")


def test_vocabulary_from_json_rejects_invalid_json():
    with pytest.raises(DataError, match=r"v\.json: not valid JSON"):
        Vocabulary.from_json("{", source="v.json")


# ------------------------------------------------------------------------------ load_text_corpus

def test_load_text_corpus_splits_shipped_corpus_contiguously():
    corpus = load_text_corpus(SHAKESPEARE, val=0.05, test=0.05)
    text = read_text(SHAKESPEARE)
    n = len(text)
    assert len(corpus.val) == round(0.05 * n) and len(corpus.test) == round(0.05 * n)
    assert len(corpus.train) + len(corpus.val) + len(corpus.test) == n
    joined = np.concatenate([corpus.train, corpus.val, corpus.test])
    assert corpus.vocab.decode(joined) == text
    assert corpus.vocab.decode(corpus.test) == text[-len(corpus.test):]


def test_load_text_corpus_errors_name_the_file(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("abcd")
    with pytest.raises(DataError, match=r"short\.txt: the validation part would have 0 of 4"):
        load_text_corpus(path, val=0.1, test=0.1)
    with pytest.raises(DataError, match=r"short\.txt: character 'd' \(U\+0064\) at position 3"):
        load_text_corpus(path, val=0, test=0, vocab=Vocabulary("abc"))
    corpus = load_text_corpus(path, val=0, test=0)
    assert corpus.train.tolist() == [0, 1, 2, 3] and corpus.val.size == corpus.test.size == 0
