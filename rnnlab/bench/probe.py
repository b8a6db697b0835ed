"""Memory and start-up of one framework, each measured in a fresh process of its own.

:func:`run_probe` starts ``python -m rnnlab.bench.probe_<framework> ...``, a child whose
module-level imports are what the framework needs (:mod:`~rnnlab.bench.probe_rnnlab`: PyTensor and
rnnlab's training path; :mod:`~rnnlab.bench.probe_torch`: ``torch``;
:mod:`~rnnlab.bench.probe_numpy`: the numpy reference).  Each hands its model builder to
:func:`run_child`, which

1. notes the end of the imports and the resident set (``rss_after_imports``); the import time
   runs from the parent's launch of the process (the interpreter's start included);
2. builds the model (rnnlab: :func:`~rnnlab.training.session.build_session`, compiling) and runs
   the first training step: the time from the launch to the end of that step is the *start*
   time;
3. runs more steps (``--steps`` in all), resetting the peak resident set after the second, and
   prints one JSON line with the peaks: ``peak_rss`` (the whole process, compiling included),
   ``training_peak_rss`` (from the third step on, when the kernel allows the reset; else null)
   and ``peak_increase`` = ``peak_rss - rss_after_imports``.

A cold start uses a new, empty compile cache (``RNNLAB_CACHE_DIR``, PyTensor's
``base_compiledir``, which holds Numba's cache too); a warm start runs again with the same one.
The child imports the rnnlab that the parent imported (``PYTHONPATH``), whatever the directory.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rnnlab import backend
from rnnlab.bench import measure, specs

__all__ = ["run_probe", "run_setup", "run_child"]

#: Prefix of the child's result line on stdout (anything printed before it is ignored).
MARKER = "rnnlab-bench-probe: "
#: Seconds a probe may take (a cold NUMBA compile of a large model takes minutes).
TIMEOUT = 1800


#: PyTensor flags the child must not inherit: rnnlab.backend sets them from RNNLAB_* (a
#: configured parent has written its own into PYTENSOR_FLAGS, which would win over the child's).
_OWN_FLAGS = ("base_compiledir", "compiledir", "mode", "floatX")


def _child_env(cache_dir):
    """The parent's environment, with this rnnlab first on the path and the given cache."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]]
                                                  if env.get("PYTHONPATH") else []))
    flags = [flag for flag in env.get("PYTENSOR_FLAGS", "").split(",")
             if flag.strip() and flag.split("=", 1)[0].strip() not in _OWN_FLAGS]
    env["PYTENSOR_FLAGS"] = ",".join(flags)
    env["RNNLAB_CACHE_DIR"] = str(cache_dir if cache_dir is not None
                                  else backend.settings()["cache_dir"])
    # rnnlab.backend put the parent's kernel cache into NUMBA_CACHE_DIR; the child's kernels
    # must live in the child's own cache, or an "empty" cache would find them compiled.
    env["NUMBA_CACHE_DIR"] = str(Path(env["RNNLAB_CACHE_DIR"]) / "rnnlab-kernels")
    return env


def run_probe(framework, config, cell, text, mode="", steps=1, max_chars=0, cache_dir=None,
              torch_threads=None, timeout=TIMEOUT):
    """Train ``steps`` steps of one model in a fresh process; return what it measured.

    Parameters
    ----------
    framework : {'rnnlab', 'torch', 'numpy'}
    config : str
        A configuration name (:func:`rnnlab.bench.specs.find_config`).
    cell : {'elman', 'lstm', 'gru'}
    text : str or os.PathLike
        The corpus.
    mode : str
        rnnlab's compile mode (``''``: its default).
    steps : int
        Training steps (>= 1); the peak while training needs >= 3.
    max_chars : int
        Characters of ``text`` to read (0: all).
    cache_dir : str or os.PathLike, optional
        The compile cache (``RNNLAB_CACHE_DIR``) of the child; by default the parent's
        (:func:`rnnlab.backend.settings`).
    torch_threads : int, optional
        PyTorch's threads (default: one per core).
    timeout : float
        Seconds before the child is stopped.

    Returns
    -------
    dict
        ``start_seconds`` (launch to the end of the first step), ``import_seconds`` (launch to
        the end of the imports), ``build_seconds``, ``first_step_seconds``,
        ``rss_after_imports``, ``peak_rss``, ``training_peak_rss``, ``peak_increase`` (bytes),
        ``first_loss``, ``mode`` (rnnlab) and ``imports_pytensor``; or ``{"error": "..."}``
        when the child failed.

    Raises
    ------
    ValueError
        For a framework not in :data:`rnnlab.bench.specs.FRAMEWORKS`.

    Examples
    --------
    >>> from rnnlab.bench import specs
    >>> found = run_probe("numpy", "tiny", "elman", specs.default_text(), steps=3,
    ...                   max_chars=2000)
    >>> found["start_seconds"] > found["first_step_seconds"] > 0, found["imports_pytensor"]
    (True, False)
    >>> found["peak_rss"] >= found["rss_after_imports"] > 0
    True
    """
    if framework not in specs.FRAMEWORKS:
        raise ValueError(f"framework {framework!r}: expected one of {', '.join(specs.FRAMEWORKS)}")
    command = [sys.executable, "-m", f"rnnlab.bench.probe_{framework}", "--config", config,
               "--cell", cell, "--text", str(text), "--mode", mode, "--steps", str(steps),
               "--max-chars", str(max_chars)]
    if torch_threads:
        command += ["--torch-threads", str(torch_threads)]
    launched = time.monotonic()
    try:
        done = subprocess.run(command, env=_child_env(cache_dir), capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return {"error": f"exit code {done.returncode}: {tail}"}
    found = json.loads(lines[-1][len(MARKER):])
    found["import_seconds"] = found.pop("imports_done") - launched
    found["start_seconds"] = found.pop("first_step_done") - launched
    return found


def run_setup(cache_dir, args=("--setup",), mode="", timeout=TIMEOUT):
    """Run the README's set-up step, ``python -m rnnlab.warmup ARGS``, into a compile cache.

    A start-up probe in (a copy of) that cache measures the first run of a model *after the
    set-up*: rnnlab's kernels and the shipped experiments' models are compiled there, the
    probe's own model is not.

    Parameters
    ----------
    cache_dir : str or os.PathLike
        The compile cache to fill (``RNNLAB_CACHE_DIR`` of the child).
    args : sequence of str
        Arguments of ``rnnlab.warmup`` (``--setup``: what ``make`` runs).
    mode : str
        rnnlab's compile mode for the models (``''``: its default).
    timeout : float
        Seconds before giving up.

    Returns
    -------
    dict
        ``seconds`` (the child's wall time) and ``args``; or ``{"error": "..."}``.

    Examples
    --------
    A failing set-up comes back as an error (a real one compiles for minutes; the benchmark's
    slow test runs one):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     print(run_setup(cache, ["--dtypes", "float16"])["error"])
    exit code 2: error: python -m rnnlab.warmup: --dtypes 'float16': expected a ... (see --help)
    """
    env = _child_env(cache_dir)
    if mode:
        env["RNNLAB_MODE"] = mode
    command = [sys.executable, "-m", "rnnlab.warmup", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=Path(__file__).resolve().parents[2])
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return {"error": f"exit code {done.returncode}: {tail}"}
    return {"seconds": time.monotonic() - started, "args": list(args)}


def _parser(prog):
    parser = argparse.ArgumentParser(
        prog=prog,
        description="One framework's start-up and memory, in a process of its own (started by "
                    "python -m rnnlab.bench; prints one JSON line).")
    parser.add_argument("--config", required=True)
    parser.add_argument("--cell", required=True, choices=("elman", "lstm", "gru"))
    parser.add_argument("--text", required=True, type=Path)
    parser.add_argument("--mode", default="")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--max-chars", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=None)
    return parser


def run_child(build, argv=None, load=None, prog="python -m rnnlab.bench.probe_<framework>"):
    """Run one probe in this process, whose imports are done (see the module docstring).

    Parameters
    ----------
    build : callable
        ``build(bench, args)`` -> a runner (``step()`` returns the loss), from the
        :class:`~rnnlab.bench.specs.BenchConfig` and the parsed arguments (``cell``, ``text``,
        ``mode``, ``max_chars``, ``torch_threads``).
    argv : list of str, optional
        ``--config``, ``--cell``, ``--text`` and the options of :func:`run_probe`'s command;
        ``sys.argv[1:]`` by default.
    load : callable, optional
        Called once the arguments are checked, before the imports are taken as done: the
        imports of an optional dependency.
    prog : str
        The child's command, for argument errors.

    Returns
    -------
    int
        0, after printing the result line (:data:`MARKER` and JSON).

    Examples
    --------
    >>> run_child(None, ["--config", "e", "--cell", "lstm", "--text", "x"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: config 'e': expected one of a, b, c, tiny
    """
    args = _parser(prog).parse_args(argv)
    bench = specs.find_config(args.config)
    if load is not None:
        load()
    imported = time.monotonic()
    rss_after_imports = measure.rss_bytes()
    runner = build(bench, args)
    built = time.monotonic()
    first_loss = runner.step()
    first_step_done = time.monotonic()
    peak, training_peak = measure.peak_rss_bytes(), None
    for index in range(1, args.steps):
        runner.step()
        if index == 1:
            peak = measure.peak_rss_bytes()
            reset = measure.reset_peak_rss()
        elif reset:
            training_peak = measure.peak_rss_bytes()
    peak = max(peak, measure.peak_rss_bytes())
    found = {"imports_done": imported, "first_step_done": first_step_done,
             "build_seconds": built - imported, "first_step_seconds": first_step_done - built,
             "rss_after_imports": rss_after_imports, "peak_rss": peak,
             "training_peak_rss": training_peak, "peak_increase": peak - rss_after_imports,
             "first_loss": first_loss, "mode": getattr(runner, "mode", None),
             "imports_pytensor": "pytensor" in sys.modules}
    print(MARKER + json.dumps(found), flush=True)
    return 0
