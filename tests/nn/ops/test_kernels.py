"""rnnlab.nn.ops.kernels.recurrent: splitting the batch into row shards changes nothing.

The drivers split the batch between Numba's threads (as many shards as threads, at least
``MIN_ROWS`` rows each), so a machine's core count decides the split; here the row functions are
run on explicit splits, which must give the one-shard result exactly (float64).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from rnnlab.nn.ops.kernels import ready, recurrent as K

ready()  # the kernels call BLAS by symbol: bound before their first call

T, B, U = 5, 7, 3
SPLITS = [(0, 7)], [(0, 3), (3, 7)], [(0, 1), (1, 4), (4, 7)]


def _inputs(gates, seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((T, B)) > 0.3).astype(float)
    return (rng.standard_normal((T, B, gates * U)), 0.5 * rng.standard_normal((U, gates * U)),
            mask, rng.standard_normal((B, U)), rng.standard_normal((B, U)),
            rng.standard_normal((3, U)))


@pytest.mark.parametrize("first, clip", [(0, 0.0), (2, 0.3)])
def test_lstm_shards(first, clip):
    xp, W, mask, h0, c0, P = _inputs(4)
    dH, dC = np.random.default_rng(1).standard_normal((2, T, B, U))
    results = []
    for split in SPLITS:
        H, C, A, TC = (np.full((T, B, n), np.nan) for n in (U, U, 4 * U, U))
        for lo, hi in split:
            K._lstm_forward_rows(xp, W, mask, h0, c0, P, True, False, lo, hi, H, C, A, TC)
        dA = np.zeros((T, B, 4 * U))
        dh0, dc0 = np.full((B, U), np.nan), np.full((B, U), np.nan)
        dP = np.zeros((3, U))
        for lo, hi in split:
            K._lstm_backward_rows(K._transposed(W), mask, c0, P, True, C, A, TC, dH, dC, first, clip, lo, hi,
                                  dA, dP, dh0, dc0)
        results.append([H, C, A, TC, dA, dh0, dc0, dP])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    assert not np.isnan(results[0][0]).any() and not np.isnan(results[0][5]).any()


@pytest.mark.parametrize("relu", [False, True])
def test_elman_shards(relu):
    xp, W, mask, h0, _, _ = _inputs(1)
    dH = np.random.default_rng(1).standard_normal((T, B, U))
    results = []
    for split in SPLITS:
        H = np.full((T, B, U), np.nan)
        for lo, hi in split:
            K._elman_forward_rows(xp, W, mask, h0, relu, False, lo, hi, H)
        dpre, dh0 = np.zeros((T, B, U)), np.full((B, U), np.nan)
        for lo, hi in split:
            K._elman_backward_rows(K._transposed(W), mask, H, dH, relu, 0, 0.0, lo, hi, dpre, dh0)
        results.append([H, dpre, dh0])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_gru_shards():
    xp, W, mask, h0, _, _ = _inputs(3)
    dH = np.random.default_rng(1).standard_normal((T, B, U))
    results = []
    for split in SPLITS:
        H, A, HC = (np.full((T, B, n), np.nan) for n in (U, 3 * U, U))
        for lo, hi in split:
            K._gru_forward_rows(xp, W, mask, h0, False, lo, hi, H, A, HC)
        dxp, dhp, dh0 = np.zeros((T, B, 3 * U)), np.zeros((T, B, 3 * U)), np.full((B, U), np.nan)
        for lo, hi in split:
            K._gru_backward_rows(K._transposed(W), mask, h0, H, A, HC, dH, 1, 0.1, lo, hi, dxp, dhp, dh0)
        results.append([H, A, HC, dxp, dhp, dh0])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("first", [0, 1, 4, 5])
def test_weight_gradient_is_the_sum_over_visited_steps(first):
    rng = np.random.default_rng(2)
    H, h0, dA = rng.standard_normal((T, B, U)), rng.standard_normal((B, U)), rng.standard_normal((T, B, 2))
    previous = np.concatenate([h0[None], H[:-1]])
    expected = sum((previous[t].T @ dA[t] for t in range(first, T)), np.zeros((U, 2)))
    np.testing.assert_allclose(K._weight_gradient(H, h0, dA, first), expected, rtol=1e-12)


def test_shard_bounds_cover_the_batch():
    for rows in (1, 7, 16, 33):
        n = K._shards(rows)
        bounds = [K._bounds(s, n, rows) for s in range(n)]
        assert bounds[0][0] == 0 and bounds[-1][1] == rows
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        assert n == 1 or min(hi - lo for lo, hi in bounds) >= K.MIN_ROWS


def test_starting_the_kernels_leaves_openmp_nesting_off():
    """Numba's OpenMP layer turns on unlimited nesting in the shared libgomp; starting the
    kernels turns it off again (PyTorch in the same process ran 35 times slower with it on)."""
    code = ("import ctypes, numba; from rnnlab.nn.ops.kernels import ready; ready(); "
            "print(numba.threading_layer(), "
            "ctypes.CDLL('libgomp.so.1').omp_get_max_active_levels())")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NESTED", "OMP_MAX_ACTIVE_LEVELS", "NUMBA_THREADING_LAYER")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True, timeout=300)
    assert done.stdout.split() == ["omp", "1"]     # no TBB here: Numba picks OpenMP


def test_shards_follow_the_thread_count_of_the_process_that_runs_them(tmp_path):
    """The thread count is read when a kernel runs, never frozen into its cached machine code:
    a cache filled by a process with one thread serves a process with three, which shards on
    three threads (and on one after ``numba.set_num_threads(1)``) without recompiling."""
    code = ("import numba; from rnnlab.nn.ops.kernels import ready, recurrent as K; ready(); "
            "n = K._shards(64); numba.set_num_threads(1); "
            "print(n, K._shards(64), sum(K._shards.stats.cache_hits.values()))")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=300, env={**env, "NUMBA_NUM_THREADS": threads})
            for threads in ("1", "3")]
    assert runs[0].stdout.split() == ["1", "1", "0"]       # compiled here, on one thread
    assert runs[1].stdout.split() == ["3", "1", "1"]       # loaded from that cache


@pytest.mark.parametrize("shape", [(1, 1), (3, 70), (65, 33), (64, 256)])
def test_the_stored_transpose_is_the_transpose(shape):
    """The backward passes multiply by ``W^T`` stored once per call (tiles of 32: shapes that
    are not multiples of the tile, and ones that are)."""
    W = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    stored = K._transposed(W)
    assert stored.flags.c_contiguous and stored.dtype == W.dtype
    np.testing.assert_array_equal(stored, W.T)
