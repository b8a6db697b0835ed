"""``python -m rnnlab.warmup``: compile rnnlab's own kernels into the compile cache, once per machine.

The fused recurrences and the fused cross-entropy (:mod:`rnnlab.nn.layers.fused`,
:mod:`rnnlab.nn._crossentropy`) run compiled Numba loops.  Numba compiles each loop the first time
it meets a dtype and caches the machine code below the compile cache
(``<RNNLAB_CACHE_DIR>/rnnlab-kernels``).  ``make`` runs this command once during set-up, so the
first training run does not pay those seconds; running it again is a no-op.  ``make clean-cache``
removes the cache and the next run (or this command) rebuilds it.
"""

import argparse
import sys
import time

import numpy as np

from rnnlab import backend
from rnnlab.cli import add_common_arguments, console_script

__all__ = ["main", "cli", "warm_kernels"]


def warm_kernels(dtypes=("float32", "float64")):
    """Run every kernel once on tiny inputs of each dtype (compiling it, or loading it from cache).

    Parameters
    ----------
    dtypes : sequence of str
        The float dtypes to compile for.

    Returns
    -------
    float
        Seconds taken.

    Examples
    --------
    >>> seconds = warm_kernels(("float64",))
    >>> seconds >= 0
    True
    """
    backend.configure()
    from rnnlab.nn import _crossentropy as ce
    from rnnlab.nn.layers import _embed_kernels as ek
    from rnnlab.nn.layers import _kernels as k

    start = time.perf_counter()
    for name in dtypes:
        dt = np.dtype(name)
        fast = dt == np.float32
        T, B, U = 2, 1, 2
        mask, h0, P = np.ones((T, B), dt), np.zeros((B, U), dt), np.zeros((3, U), dt)
        xp = np.ones((T, B, U), dt)
        H = k.elman_forward(xp, np.eye(U, dtype=dt), mask, h0, False, fast, False)
        k.elman_backward(np.eye(U, dtype=dt), mask, h0, H, H.copy(), False, -1, 0.0, True)
        xp, W = np.ones((T, B, 4 * U), dt), np.ones((U, 4 * U), dt)
        H, C, A, TC = k.lstm_forward(xp, W, mask, h0, h0, P, False, fast, True)
        k.lstm_backward(W, mask, h0, h0, P, False, H, C, A, TC, H, C, -1, 0.0, True)
        xp, W = np.ones((T, B, 3 * U), dt), np.ones((U, 3 * U), dt)
        H, A, HC = k.gru_forward(xp, W, mask, h0, fast, True)
        k.gru_backward(W, mask, h0, H, A, HC, H, -1, 0.0, True)
        for ids in (np.zeros((2, 2), np.int32), np.zeros((2, 2), np.int64)):
            rows, _ = ek.flat_ids(ids, 3)
        table, W = np.ones((3, 2), dt), np.ones((2, 4), dt)
        ek.forward(table, W, rows, True)
        ek.backward(table, W, rows, np.ones((4, 4), dt), True)
        logits, targets = np.zeros((2, 3), dt), np.zeros(2, np.int64)
        loss, lse, _ = ce._forward(logits, targets, fast)
        ce._backward(logits, targets, lse, loss, fast)
    return time.perf_counter() - start


def main(argv=None):
    """Compile (or load) the kernels for the dtypes given; print what was done.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (``--dtypes float32,float64``); ``sys.argv[1:]`` by default.

    Examples
    --------
    >>> main(["--dtypes", "float64"])                    # doctest: +ELLIPSIS
    rnnlab kernels ready for float64 in ... s (cache: ...)
    """
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.warmup", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compile rnnlab's Numba kernels (fused recurrences, fused cross-entropy) "
                    "into the compile cache, so the first training run does not wait for them.",
        epilog="examples:\n  python -m rnnlab.warmup --dtypes float32,float64\n"
               "  RNNLAB_CACHE_DIR=/tmp/cache python -m rnnlab.warmup --dtypes float32\n\n"
               "installed as the console script rnnlab-warmup.\n"
               "exit codes: 0 kernels ready; 2 bad arguments (one line on stderr).")
    add_common_arguments(parser)
    parser.add_argument("--dtypes", default="float32,float64",
                        help="comma-separated float dtypes (default: float32,float64)")
    args = parser.parse_args(argv)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in backend.FLOATX]
    if bad or not dtypes:
        parser.error(f"--dtypes {args.dtypes!r}: expected a comma-separated subset of "
                     f"{','.join(backend.FLOATX)}")
    seconds = warm_kernels(dtypes)
    print(f"rnnlab kernels ready for {', '.join(dtypes)} in {seconds:.1f} s "
          f"(cache: {backend.settings()['cache_dir']})")


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
