"""``python -m rnnlab.warmup``: fill the compile cache once per machine.

The fused recurrences and the fused cross-entropy (:mod:`rnnlab.nn.ops.recurrence`,
:mod:`rnnlab.nn.ops.crossentropy`) run compiled Numba loops.  Numba compiles each loop the first time
it meets a dtype and caches the machine code below the compile cache
(``<RNNLAB_CACHE_DIR>/rnnlab-kernels``); :func:`warm_kernels` does that for a group of them
(:data:`KERNEL_GROUPS`).  ``--models CONFIG...`` also compiles the train, evaluate and predict
functions of the given run configs (:func:`warm_models`): PyTensor caches each compiled op and
graph in the same directory, so a first run of those configs starts warm and other models reuse
the ops they share.

The work is split into items (one kernel group in one dtype, one model) that run in ``--jobs``
processes, one per core by default, in order: a model starts once the kernels it calls
(:func:`kernel_groups`) are compiled, so no two processes compile the same kernel.  A line is
printed as each item is done.  ``make`` runs ``--setup`` once: the models of the shipped
experiments the README starts with and, in float32 (what runs use), the kernel groups they call;
the others (GRU, the embedding projection) and the float64 kernels the tests use compile where
they are first needed, or with a plain ``python -m rnnlab.warmup --dtypes float32,float64``.
Running it again is a no-op; ``make clean-cache`` removes the cache.
"""

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from rnnlab import backend, config
from rnnlab.commands.cli import add_common_arguments, console_script
from rnnlab.errors import ConfigError
from rnnlab.model.compile import prepare_ops
from rnnlab.nn.ops.kernels import crossentropy as ce, embedding as ek, recurrent as k
from rnnlab.tasks.sampling import generate
from rnnlab.training.session import build_session

__all__ = ["main", "cli", "warm_kernels", "warm_models", "kernel_groups", "KERNEL_GROUPS",
           "SETUP_MODELS", "setup_models"]

#: The shipped experiments whose models ``--setup`` (``make``'s set-up step) compiles: the
#: README's first commands train them.
SETUP_MODELS = ("shakespeare_lstm.toml", "shakespeare_elman.toml", "airline_lstm.toml")


def _elman(dt, fast):
    T, B, U = 2, 1, 2
    mask, h0 = np.ones((T, B), dt), np.zeros((B, U), dt)
    H = k.elman_forward(np.ones((T, B, U), dt), np.eye(U, dtype=dt), mask, h0, False, fast, False)
    k.elman_backward(np.eye(U, dtype=dt), mask, h0, H, H.copy(), False, -1, 0.0, True)


def _lstm(dt, fast):
    T, B, U = 2, 1, 2
    mask, h0, P = np.ones((T, B), dt), np.zeros((B, U), dt), np.zeros((3, U), dt)
    xp, W = np.ones((T, B, 4 * U), dt), np.ones((U, 4 * U), dt)
    H, C, A, TC = k.lstm_forward(xp, W, mask, h0, h0, P, False, fast, True)
    k.lstm_backward(W, mask, h0, h0, P, H, C, A, TC, H, C, False, -1, 0.0, True)


def _gru(dt, fast):
    T, B, U = 2, 1, 2
    mask, h0 = np.ones((T, B), dt), np.zeros((B, U), dt)
    xp, W = np.ones((T, B, 3 * U), dt), np.ones((U, 3 * U), dt)
    H, A, HC = k.gru_forward(xp, W, mask, h0, fast, True)
    k.gru_backward(W, mask, h0, H, A, HC, H, -1, 0.0, True)


def _embedding(dt, fast):
    table, W = np.ones((3, 2), dt), np.ones((2, 4), dt)
    for ids in (np.zeros((2, 2), np.int32), np.zeros((2, 2), np.int64)):
        ek.project_grad(table, W, ids, ek.project(table, W, ids))   # NUMBA graphs
        rows, _ = ek.flat_ids(ids, 3)
    ek.forward(table, W, rows, True)                                  # perform (CVM)
    ek.backward(table, W, rows, np.ones((4, 4), dt), True)


def _crossentropy(dt, fast):
    logits = np.zeros((2, 3), dt)
    for targets in (np.zeros(2, np.int32), np.zeros(2, np.int64)):
        loss, lse = ce.checked_forward(logits, targets, fast)        # NUMBA graphs
        ce.cast_backward(logits, targets, lse, loss, fast)
        loss, lse, _ = ce.forward(logits, targets, fast)             # perform (CVM)
        ce.backward(logits, targets, lse, loss, fast)


#: The kernels by group, largest (slowest to compile) first: each runs its kernels once on tiny
#: inputs of a dtype.
KERNEL_GROUPS = {"lstm": _lstm, "gru": _gru, "elman": _elman, "embedding": _embedding,
                 "crossentropy": _crossentropy}


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


def warm_kernels(dtypes=("float32",), groups=tuple(KERNEL_GROUPS)):
    """Run kernels once on tiny inputs of each dtype (compiling them, or loading them from cache).

    Parameters
    ----------
    dtypes : sequence of str
        The float dtypes to compile for (float32: what runs use by default).
    groups : sequence of str
        Keys of :data:`KERNEL_GROUPS`; all of them by default.

    Returns
    -------
    float
        Seconds taken.

    Examples
    --------
    >>> seconds = warm_kernels(("float64",), ["elman"])
    >>> seconds >= 0
    True
    """
    backend.configure()
    prepare_ops()

    start = time.perf_counter()
    for name in dtypes:
        dt = np.dtype(name)
        for group in groups:
            KERNEL_GROUPS[group](dt, dt == np.float32)
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


def kernel_groups(cfg):
    """The kernel groups (keys of :data:`KERNEL_GROUPS`) the model of a run config calls.

    Parameters
    ----------
    cfg : rnnlab.config.Config

    Returns
    -------
    list of str

    Examples
    --------
    >>> kernel_groups(config.load("experiments/shakespeare_lstm.toml"))
    ['lstm', 'crossentropy']
    >>> kernel_groups(config.load("experiments/airline_lstm.toml", ["model.cell=gru"]))
    ['gru']
    """
    groups = [cfg.model.cell]
    if cfg.data.kind == "text":
        groups += ["embedding"] if cfg.model.embedding else []
        groups += ["crossentropy"]
    return groups


def _run(item):
    """One item of work, in whichever process runs it: its seconds."""
    if item[0] == "kernels":
        return warm_kernels([item[2]], [item[1]])
    return warm_models([item[1]])[0][1]


def _describe(item):
    if item[0] == "kernels":
        return f"compiled the {item[1]} kernels ({item[2]})"
    return f"compiled the model of {item[1]}"


def _startable(pending, done, items, free):
    """The first ``free`` pending items whose kernel items (those among ``items``) are done."""
    def ready(item):
        return item[0] == "kernels" or all(k in done for k in item[2] if k in items)
    return [item for item in pending if ready(item)][:free]


def _schedule(items, jobs, report):
    """Run the items in ``jobs`` processes (in this one for 1), each as soon as a process is free
    and the kernels it calls are compiled, in the order given otherwise; call
    ``report(item, seconds)`` as each is done.  The first error starts nothing more and is raised
    when the items running finish."""
    if jobs == 1:
        for item in items:
            report(item, _run(item))
        return
    pending, done, running = list(items), set(), {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        while pending or running:
            for item in _startable(pending, done, items, jobs - len(running)):
                pending.remove(item)
                running[pool.submit(_run, item)] = item
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:          # an error is raised once the others finish
                item = running.pop(future)
                seconds = future.result()
                done.add(item)
                report(item, seconds)


def main(argv=None):
    """Compile (or load) the kernels for the dtypes given, and models; print each as it is done.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (``--dtypes float32,float64``); ``sys.argv[1:]`` by default.

    Examples
    --------
    >>> main(["--dtypes", "float64", "--jobs", "1"])          # doctest: +ELLIPSIS
    rnnlab.warmup: 5 kernel groups (float64), 0 models, 1 process, cache ...
    compiled the lstm kernels (float64) in ... s
    compiled the gru kernels (float64) in ... s
    compiled the elman kernels (float64) in ... s
    compiled the embedding kernels (float64) in ... s
    compiled the crossentropy kernels (float64) in ... s
    rnnlab.warmup: ready in ... s
    """
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.warmup", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compile rnnlab's Numba kernels (fused recurrences, fused cross-entropy) "
                    "and, with --models, the functions of run configs into the compile cache, "
                    "so the first training run does not wait for them.",
        epilog="examples:\n  python -m rnnlab.warmup --dtypes float32,float64\n"
               "  RNNLAB_CACHE_DIR=/tmp/cache python -m rnnlab.warmup\n"
               "  python -m rnnlab.warmup --models experiments/shakespeare_lstm.toml\n"
               "  python -m rnnlab.warmup --setup          # what make runs once\n\n"
               "installed as the console script rnnlab-warmup.\n"
               "exit codes: 0 ready; 2 bad arguments or an unusable config (one line on "
               "stderr).")
    add_common_arguments(parser)
    parser.add_argument("--dtypes", default="float32",
                        help="comma-separated float dtypes (default: float32, what runs use; "
                             "float64 is for gradient checks)")
    parser.add_argument("--models", nargs="+", default=[], metavar="CONFIG",
                        help="also compile the functions of these run configs (TOML)")
    parser.add_argument("--setup", action="store_true",
                        help="also compile the models of the shipped experiments the README "
                             f"starts with ({', '.join(SETUP_MODELS)}): make's set-up step")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="processes compiling side by side (default: one per core)")
    args = parser.parse_args(argv)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in backend.FLOATX]
    if bad or not dtypes:
        parser.error(f"--dtypes {args.dtypes!r}: expected a comma-separated subset of "
                     f"{','.join(backend.FLOATX)}")
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: expected a whole number of processes, at least 1")
    models = [str(p) for p in (setup_models() if args.setup else [])] + args.models
    cfgs = [config.load(path) for path in models]        # a bad config fails now
    needs = [tuple(("kernels", g, c.device.floatX) for g in kernel_groups(c)) for c in cfgs]
    groups = ([g for g in KERNEL_GROUPS if any(k[1] == g for n in needs for k in n)]
              if args.setup else list(KERNEL_GROUPS))
    items = ([("kernels", g, d) for d in dtypes for g in groups]
             + [("model", p, n) for p, n in zip(models, needs)])
    jobs = min(args.jobs, len(items))
    cache = backend.configure()["cache_dir"]
    print(f"rnnlab.warmup: {len(groups)} kernel groups ({', '.join(dtypes)}), "
          f"{len(models)} model{'' if len(models) == 1 else 's'}, "
          f"{jobs} process{'' if jobs == 1 else 'es'}, cache {cache}",
          flush=True)
    start = time.perf_counter()
    _schedule(items, jobs, lambda item, seconds: print(f"{_describe(item)} in {seconds:.1f} s",
                                                       flush=True))
    print(f"rnnlab.warmup: ready in {time.perf_counter() - start:.1f} s", flush=True)


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
