"""``python -m rnnlab.warmup``: fill the compile cache once per machine.

The fused recurrences and the fused cross-entropy (:mod:`rnnlab.nn.ops.recurrence`,
:mod:`rnnlab.nn.ops.crossentropy`) run compiled Numba loops.  Numba compiles each loop the first time
it meets a dtype and caches the machine code below the compile cache
(``<RNNLAB_CACHE_DIR>/rnnlab-kernels``); :func:`warm_kernels` does that for every loop.
``--models CONFIG...`` also compiles the train, evaluate and predict functions of the given run
configs (:func:`warm_models`): PyTensor caches each compiled op and graph in the same directory,
so a first run of those configs starts warm and other models reuse the ops they share.  ``make``
runs this command during set-up with the shipped experiments the README starts with; running
it again is a no-op.  ``make clean-cache`` removes the cache.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rnnlab import backend, config
from rnnlab.commands.cli import add_common_arguments, console_script
from rnnlab.errors import ConfigError
from rnnlab.model.compile import prepare_ops
from rnnlab.nn.ops.kernels import crossentropy as ce, embedding as ek, recurrent as k
from rnnlab.tasks.sampling import generate
from rnnlab.training.session import build_session

__all__ = ["main", "cli", "warm_kernels", "warm_models", "SETUP_MODELS", "setup_models"]

#: The shipped experiments whose models ``--setup`` (``make``'s set-up step) compiles: the
#: README's first commands train them.
SETUP_MODELS = ("shakespeare_lstm.toml", "shakespeare_elman.toml", "airline_lstm.toml")


def setup_models():
    """The paths of :data:`SETUP_MODELS` in this checkout's ``experiments/`` folder.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    rnnlab.errors.ConfigError
        The folder is missing (rnnlab installed without its source checkout).

    Examples
    --------
    >>> [p.name for p in setup_models()]
    ['shakespeare_lstm.toml', 'shakespeare_elman.toml', 'airline_lstm.toml']
    """
    folder = Path(__file__).resolve().parents[2] / "experiments"
    paths = [folder / name for name in SETUP_MODELS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(f"--setup: {missing[0]} not found (it needs rnnlab's source checkout)")
    return paths


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
    prepare_ops()

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
        k.lstm_backward(W, mask, h0, h0, P, H, C, A, TC, H, C, False, -1, 0.0, True)
        xp, W = np.ones((T, B, 3 * U), dt), np.ones((U, 3 * U), dt)
        H, A, HC = k.gru_forward(xp, W, mask, h0, fast, True)
        k.gru_backward(W, mask, h0, H, A, HC, H, -1, 0.0, True)
        table, W = np.ones((3, 2), dt), np.ones((2, 4), dt)
        for ids in (np.zeros((2, 2), np.int32), np.zeros((2, 2), np.int64)):
            ek.project_grad(table, W, ids, ek.project(table, W, ids))   # NUMBA graphs
            rows, _ = ek.flat_ids(ids, 3)
        ek.forward(table, W, rows, True)                                  # perform (CVM)
        ek.backward(table, W, rows, np.ones((4, 4), dt), True)
        logits = np.zeros((2, 3), dt)
        for targets in (np.zeros(2, np.int32), np.zeros(2, np.int64)):
            loss, lse = ce.checked_forward(logits, targets, fast)        # NUMBA graphs
            ce.cast_backward(logits, targets, lse, loss, fast)
            loss, lse, _ = ce.forward(logits, targets, fast)             # perform (CVM)
            ce.backward(logits, targets, lse, loss, fast)
    return time.perf_counter() - start


def warm_models(paths):
    """Compile the functions of the models of run configs: one train, evaluate and predict call.

    Nothing is written but the compile cache; each model is built as ``python -m rnnlab.train``
    builds it (:func:`rnnlab.training.session.build_session`) and run on its first batch.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        TOML run configs (their data must exist).

    Returns
    -------
    list of (str, float)
        Each config with the seconds it took.

    Raises
    ------
    rnnlab.errors.RnnlabError
        A config or its data is unusable (the message names it).

    Examples
    --------
    >>> [(name, s > 0) for name, s in warm_models(["experiments/smoke_text.toml"])]
    [('experiments/smoke_text.toml', True)]
    """

    done = []
    for path in paths:
        start = time.perf_counter()
        session = build_session(config.load(path))
        task, fns = session.task, session.functions
        x, y = task.train_batch(0, 0)
        states = fns.initial_states(session.cfg.train.batch_size)
        fns.train(x, y, *states)
        fns.evaluate(x, y, *states)
        if task.kind == "text":
            generate(session, length=2)
        else:
            fns.predict(x, *states)
        done.append((str(path), time.perf_counter() - start))
    return done


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
                    "and, with --models, the functions of run configs into the compile cache, "
                    "so the first training run does not wait for them.",
        epilog="examples:\n  python -m rnnlab.warmup --dtypes float32,float64\n"
               "  RNNLAB_CACHE_DIR=/tmp/cache python -m rnnlab.warmup --dtypes float32\n"
               "  python -m rnnlab.warmup --models experiments/shakespeare_lstm.toml\n"
               "  python -m rnnlab.warmup --setup          # what make runs once\n\n"
               "installed as the console script rnnlab-warmup.\n"
               "exit codes: 0 ready; 2 bad arguments or an unusable config (one line on "
               "stderr).")
    add_common_arguments(parser)
    parser.add_argument("--dtypes", default="float32,float64",
                        help="comma-separated float dtypes (default: float32,float64)")
    parser.add_argument("--models", nargs="+", default=[], metavar="CONFIG",
                        help="also compile the functions of these run configs (TOML)")
    parser.add_argument("--setup", action="store_true",
                        help="also compile the models of the shipped experiments the README "
                             f"starts with ({', '.join(SETUP_MODELS)}): make's set-up step")
    args = parser.parse_args(argv)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in backend.FLOATX]
    if bad or not dtypes:
        parser.error(f"--dtypes {args.dtypes!r}: expected a comma-separated subset of "
                     f"{','.join(backend.FLOATX)}")
    seconds = warm_kernels(dtypes)
    print(f"rnnlab kernels ready for {', '.join(dtypes)} in {seconds:.1f} s "
          f"(cache: {backend.settings()['cache_dir']})")
    for path, seconds in warm_models((setup_models() if args.setup else []) + args.models):
        print(f"compiled the model of {path} in {seconds:.1f} s")


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
