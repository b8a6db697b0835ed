"""Tests for rnnlab.datasets.batching: contiguous splits, truncated-BPTT stream batches, one-hot."""

from pathlib import Path

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.datasets.batching import StreamBatcher, one_hot_ids, split_contiguous, split_files
from rnnlab.datasets.text import load_text_corpus
from rnnlab.errors import DataError

SHAKESPEARE = Path(__file__).resolve().parents[2] / "data" / "shakespeare.txt"

# (n, batch_size, seq_len): exact fit (n = k * batch_size * seq_len + 1), a ragged tail just
# short of another block, a single batch, a single stream, and seq_len 1.
GEOMETRIES = [(61, 3, 4), (72, 3, 4), (13, 4, 3), (50, 1, 7), (40, 5, 1)]


def _epoch(batcher, start=0):
    return list(batcher.iter_from(start))


# ------------------------------------------------------------------------------ acceptance 3

@pytest.mark.parametrize("n, batch_size, seq_len", GEOMETRIES)
def test_epoch_visits_every_usable_position_once_in_stream_order(n, batch_size, seq_len):
    # With ids = positions, every value says where in the corpus it came from.
    batcher = StreamBatcher(np.arange(n), batch_size, seq_len)
    n_batches = (n - 1) // (batch_size * seq_len)
    stream_len = n_batches * seq_len
    assert len(batcher) == n_batches and batcher.n_used == batch_size * stream_len
    batches = _epoch(batcher)
    assert len(batches) == n_batches
    for inputs, targets in batches:
        assert inputs.shape == targets.shape == (batch_size, seq_len)
        assert inputs.dtype == targets.dtype == np.int32
        np.testing.assert_array_equal(targets, inputs + 1)   # each target is the next id
    inputs = np.concatenate([x for x, _ in batches], axis=1)  # (batch_size, stream_len)
    # Read in time order, stream b is exactly the b-th contiguous block of the corpus ...
    expected = np.arange(batch_size * stream_len).reshape(batch_size, stream_len)
    np.testing.assert_array_equal(inputs, expected)
    # ... so every usable position is an input exactly once and a target exactly once.
    targets = np.concatenate([y for _, y in batches], axis=1)
    np.testing.assert_array_equal(np.sort(inputs, axis=None), np.arange(batcher.n_used))
    np.testing.assert_array_equal(np.sort(targets, axis=None), np.arange(1, batcher.n_used + 1))
    assert n - 1 - batcher.n_used < batch_size * seq_len     # the unused tail is < one block


@pytest.mark.parametrize("n, batch_size, seq_len", GEOMETRIES)
def test_consecutive_batches_continue_each_stream(n, batch_size, seq_len):
    batches = _epoch(StreamBatcher(np.arange(n), batch_size, seq_len))
    for (x0, y0), (x1, _) in zip(batches, batches[1:]):
        # Row b of the next batch starts where row b of this batch stopped.
        np.testing.assert_array_equal(x1[:, 0], y0[:, -1])
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)


def test_streams_of_real_corpus_reassemble_the_training_text():
    corpus = load_text_corpus(SHAKESPEARE)
    batch_size, seq_len = 16, 50
    batcher = StreamBatcher(corpus.train, batch_size, seq_len, name="shakespeare train")
    inputs = np.concatenate([x for x, _ in batcher], axis=1)
    targets = np.concatenate([y for _, y in batcher], axis=1)
    train = corpus.train
    for b in range(batch_size):
        block = slice(b * batcher.stream_len, (b + 1) * batcher.stream_len)
        np.testing.assert_array_equal(inputs[b], train[block])
        np.testing.assert_array_equal(targets[b], train[block.start + 1:block.stop + 1])
    assert corpus.vocab.decode(inputs.ravel()) == corpus.vocab.decode(train[:batcher.n_used])


# ------------------------------------------------------------------------------ resuming

def test_iter_from_resumes_exactly_where_an_epoch_stopped():
    batcher = StreamBatcher(np.arange(101) % 7, batch_size=4, seq_len=5)
    full = _epoch(batcher)
    for start in range(len(batcher) + 1):
        resumed = _epoch(batcher, start)
        assert len(resumed) == len(full) - start
        for (x, y), (xr, yr) in zip(full[start:], resumed):
            np.testing.assert_array_equal(x, xr)
            np.testing.assert_array_equal(y, yr)
    # Returned batches are copies: changing one does not change the next epoch.
    full[0][0][:] = -1
    assert batcher.batch(0)[0].min() >= 0


@pytest.mark.parametrize("start", [-1, 6, True, 1.0])
def test_iter_from_and_batch_reject_bad_positions(start):
    batcher = StreamBatcher(np.arange(101), batch_size=4, seq_len=5)   # 5 batches
    with pytest.raises(ValueError, match=r"start=.*: expected a batch index in \[0, 5\]"):
        next(batcher.iter_from(start))
    with pytest.raises(ValueError, match=r"index=.*: expected a batch index in \[0, 5\)"):
        batcher.batch(start if start != 6 else 5)


# ------------------------------------------------------------------------------ one-hot

def test_one_hot_inputs_match_ids_and_targets_stay_ids():
    ids = (np.arange(200) * 7) % 11
    plain = StreamBatcher(ids, 3, 6)
    hot = StreamBatcher(ids, 3, 6, one_hot=True, vocab_size=11)
    for (x, y), (xh, yh) in zip(plain, hot):
        assert xh.shape == (3, 6, 11) and xh.dtype == np.float32
        np.testing.assert_array_equal(xh.sum(axis=-1), 1.0)
        np.testing.assert_array_equal(xh.argmax(axis=-1), x)
        np.testing.assert_array_equal(yh, y)


def test_one_hot_ids_values_and_errors():
    out = one_hot_ids(np.array([[1, 0], [2, 2]]), 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[[1, 0], [2, 2]]])
    with pytest.raises(ValueError, match=r"ids: contains 3; expected ids in \[0, 3\)"):
        one_hot_ids([0, 3], 3)
    with pytest.raises(TypeError, match="expected integer ids"):
        one_hot_ids([0.5], 3)


# ------------------------------------------------------------------------------ bad input

def test_too_short_and_empty_corpus_raise_data_error_naming_it():
    with pytest.raises(DataError, match=r"tiny\.txt \(training part\): 12 ids are too few for "
                                        r"batch_size=3 and seq_len=4; expected at least 13"):
        StreamBatcher(np.arange(12), 3, 4, name="tiny.txt (training part)")
    assert len(StreamBatcher(np.arange(13), 3, 4)) == 1
    with pytest.raises(DataError, match=r"val ids: empty; expected at least .* = 13 ids"):
        StreamBatcher(np.array([], dtype=np.int32), 3, 4, name="val ids")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, r"batch_size=0: expected a positive integer"),
    ({"seq_len": True}, ValueError, r"seq_len=True: expected a positive integer"),
    ({"seq_len": 2.0}, ValueError, r"seq_len=2.0: expected a positive integer"),
    ({"one_hot": True}, ValueError, r"one_hot=True: expected vocab_size"),
    ({"vocab_size": 5}, ValueError, r"ids: range \[0, 9\]; expected ids >= 0 and below "
                                    r"vocab_size=5"),
    ({"ids": np.linspace(0, 1, 50)}, TypeError, r"expected a 1-D integer array"),
    ({"ids": np.zeros((5, 10), dtype=int)}, TypeError, r"expected a 1-D integer array"),
])
def test_stream_batcher_rejects_bad_arguments(kwargs, error, message):
    args = {"ids": np.arange(50) % 10, "batch_size": 2, "seq_len": 3, **kwargs}
    with pytest.raises(error, match=message):
        StreamBatcher(**args)


# ------------------------------------------------------------------------------ split_contiguous

@pytest.mark.parametrize("n, val, test", [(100, 0.1, 0.2), (37, 0.05, 0.3), (10, 0.0, 0.2)])
def test_split_contiguous_parts_are_in_order_and_sized_by_fraction(n, val, test):
    seq = np.arange(n)
    train, valid, tst = split_contiguous(seq, val=val, test=test)
    assert len(valid) == round(val * n) and len(tst) == round(test * n)
    np.testing.assert_array_equal(np.concatenate([train, valid, tst]), seq)


@pytest.mark.parametrize("val, test, message", [
    (0.5, 0.5, r"the training part would have 0 of 10 items; expected at least 2"),
    (0.1, 0.2, r"the validation part would have 1 of 10 items \(fraction 0.1\)"),
    (0.2, 0.04, r"the test part would have 0 of 10 items \(fraction 0.04\)"),
])
def test_split_contiguous_rejects_parts_too_small_naming_source(val, test, message):
    with pytest.raises(DataError, match=r"corpus\.txt: " + message):
        split_contiguous("abcdefghij", val=val, test=test, name="corpus.txt")


@pytest.mark.parametrize("kwargs, message", [
    ({"val": 1.0}, r"val=1.0: expected a fraction in \[0, 1\)"),
    ({"test": -0.1}, r"test=-0.1: expected a fraction in \[0, 1\)"),
    ({"test": "0.1"}, r"test='0.1': expected a fraction"),
    ({"min_length": 0}, r"min_length=0: expected a positive integer"),
])
def test_split_contiguous_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_contiguous("abcdefghij", **kwargs)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(sizes=st.lists(st.integers(0, 5000), min_size=3, max_size=40),
       val=st.sampled_from([0.0, 0.05, 0.1, 0.3]), test=st.sampled_from([0.0, 0.05, 0.1, 0.3]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_split_files_puts_every_file_in_exactly_one_part(sizes, val, test, seed):
    train, val_part, test_part = split_files(sizes, val=val, test=test, seed=seed)
    listed = train + val_part + test_part
    assert sorted(listed) == list(range(len(sizes)))             # each file once, none twice
    assert all(part == sorted(part) for part in (train, val_part, test_part))
    assert train and bool(val_part) == (val > 0) and bool(test_part) == (test > 0)
    total = sum(sizes)
    for part, fraction in ((val_part, val), (test_part, test)):
        # Within its share, unless no file fitted and the smallest one was taken.
        assert sum(sizes[i] for i in part) <= fraction * total or len(part) == 1
    assert split_files(sizes, val=val, test=test, seed=seed) == (train, val_part, test_part)


def test_split_files_depends_on_the_seed_and_needs_a_file_per_part():
    draws = {tuple(map(tuple, split_files([10] * 20, val=0.2, test=0.2, seed=seed)))
             for seed in range(10)}
    assert len(draws) > 5
    with pytest.raises(DataError, match=r"^docs/: data\.split_by = 'file' needs at least 2 files "
                                        r"\(train, test: one each\); found 1$"):
        split_files([10], val=0.0, test=0.1, name="docs/")
