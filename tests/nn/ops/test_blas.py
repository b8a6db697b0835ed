"""rnnlab.nn.ops.kernels.blas: the in-place BLAS product of the kernels, and which BLAS it is bound to."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from rnnlab.nn.ops.kernels import blas as _blas, ready

ready()  # gemm calls BLAS by symbol: bound before its first call

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)])
def test_gemm_matches_numpy(dtype, trans_a, trans_b):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    big = rng.standard_normal((4, 9, 3))                 # c is a slice X[t, lo:hi], as in kernels
    c = big.astype(dtype)[2, 1:6]
    expected = 0.5 * c.astype("float64") + 2.0 * a @ b
    _blas.gemm(trans_a, trans_b, np.ascontiguousarray(a.T if trans_a else a, dtype),
               np.ascontiguousarray(b.T if trans_b else b, dtype), c, 2.0, 0.5)
    np.testing.assert_allclose(c, expected, rtol=1e-5 if dtype == "float32" else 1e-13)


def test_gemm_empty_inner_dimension_scales_by_beta():
    c = np.ones((2, 3))
    _blas.gemm(False, False, np.ones((2, 0)), np.ones((0, 3)), c, 1.0, 0.25)
    assert c.tolist() == [[0.25] * 3] * 2


def test_gemm_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes do not match"):
        _blas.gemm(False, False, np.ones((2, 3)), np.ones((4, 5)), np.ones((2, 5)), 1.0, 0.0)


def test_scipy_blas_is_single_threaded_after_limit():
    limited = set(_blas.limit_threads())
    threads = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()}
    assert limited and all(threads[path] == 1 for path in limited)


def _bound(blas):
    env = dict(os.environ, RNNLAB_BLAS=blas, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", "from rnnlab.nn.ops.kernels import blas; print(blas.bind())"],
                          env=env, capture_output=True, text=True)


def test_blas_choice_follows_the_environment():
    assert _bound("scipy").stdout.strip() == "SciPy's BLAS"
    auto = _bound("auto").stdout.strip()
    assert auto.startswith("oneMKL") == (_blas._find_mkl() is not None)
    bad = _bound("openblas")
    assert bad.returncode != 0 and "RNNLAB_BLAS='openblas': expected auto, mkl or scipy" in bad.stderr
