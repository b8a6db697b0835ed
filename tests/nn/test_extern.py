"""rnnlab.nn._extern: kernels called by symbol behave as ordinary Numba calls."""

import numba
import numpy as np
import pytest
from numba import types
from numba.core.errors import TypingError

from rnnlab.nn._extern import extern_call

VECTOR = types.Array(types.float64, 1, "C")


@numba.njit(cache=False)
def _checked_sum(x, limit):
    if x.size > limit:
        raise ValueError("too many elements")
    return x.sum(), x * 2


def test_results_and_new_arrays_come_back_unchanged():
    call, _ = extern_call(_checked_sum, (VECTOR, types.int64))

    @numba.njit
    def caller(x):
        total, doubled = call((x, 10))
        return total, doubled

    total, doubled = caller(np.arange(4.0))
    assert total == 6.0 and doubled.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_an_exception_in_the_kernel_reaches_the_caller():
    call, _ = extern_call(_checked_sum, (VECTOR, types.int64))

    @numba.njit
    def caller(x):
        return call((x, 2))[0]

    with pytest.raises(ValueError, match="too many elements"):
        caller(np.arange(4.0))


def test_other_argument_types_fail_at_compile_time_with_the_expected_ones():
    call, _ = extern_call(_checked_sum, (VECTOR, types.int64))

    @numba.njit
    def caller(x):
        return call((x, 2))[0]

    with pytest.raises(TypingError, match="extern call of _checked_sum: expected argument types"):
        caller(np.arange(4, dtype=np.float32))


def test_the_cache_version_follows_the_signature():
    one, v1 = extern_call(_checked_sum, (VECTOR, types.int64))
    again, v2 = extern_call(_checked_sum, (VECTOR, types.int64))
    other, v3 = extern_call(_checked_sum, (types.Array(types.float32, 1, "C"), types.int64))
    assert v1 == v2 != v3
