"""rnnlab.nn.ops.linker: outputs fed back into a NUMBA function do not make Numba compile again."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn.ops.linker import ContiguousNumbaLinker, install


@pytest.mark.slow
def test_a_transposed_output_fed_back_reuses_the_first_compile():
    install()
    x = pt.matrix("x", dtype="float64")
    f = pytensor.function([x], [x.T, 2 * x], mode="NUMBA")
    assert isinstance(f.maker.linker, ContiguousNumbaLinker)
    a = np.arange(6.0).reshape(2, 3)
    t, d = f(a)
    assert t.flags.c_contiguous and np.array_equal(t, a.T) and np.array_equal(d, 2 * a)
    f(t)
    f(f(t)[0])
    assert len(f.vm.jit_fn.dispatcher.signatures) == 1
