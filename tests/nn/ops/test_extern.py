"""rnnlab.nn.ops.kernels.extern: kernels called by symbol behave as ordinary Numba calls."""

import numba
import numpy as np
import pytest
from numba import types
from numba.core.errors import TypingError

from rnnlab.nn.ops.kernels.extern import extern_call

VECTOR = types.Array(types.float64, 1, "C")


@numba.njit(cache=False)
def _checked_sum(x, limit):
    if x.size > limit:
        raise ValueError("too many elements")
    return x.sum(), x * 2


_CALL, _VERSION = extern_call(_checked_sum, (VECTOR, types.int64))


@numba.njit
def _caller(x, limit):
    return _CALL((x, limit))


def test_results_and_new_arrays_come_back_unchanged():
    total, doubled = _caller(np.arange(4.0), 10)
    assert total == 6.0 and doubled.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_an_exception_in_the_kernel_reaches_the_caller():
    with pytest.raises(ValueError, match="too many elements"):
        _caller(np.arange(4.0), 2)


def test_other_argument_types_fail_at_compile_time_with_the_expected_ones():
    with pytest.raises(TypingError, match="extern call of _checked_sum: expected argument types"):
        _caller(np.arange(4, dtype=np.float32), 2)


def test_the_cache_version_follows_the_signature():
    _, again = extern_call(_checked_sum, (VECTOR, types.int64))
    _, other = extern_call(_checked_sum, (types.Array(types.float32, 1, "C"), types.int64))
    assert _VERSION == again != other
