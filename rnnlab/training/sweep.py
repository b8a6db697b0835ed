"""Run jobs of ``python -m`` commands in parallel: joblib on this machine, or a Dask cluster.

A *job* is a list of commands run one after another, each in a fresh Python process
(``python -m rnnlab.train ...`` then ``python -m rnnlab.forecast RUN``), with their output in one
log file.  Because every run is its own OS process, nothing needs pickling but the job's small
dict, a crash cannot take the other runs down, and no PyTensor state is shared; so joblib's
workers here are threads that start the processes and wait for them (``n_jobs`` at a time), and
on a ``dask.distributed`` cluster each task starts the processes on a worker and returns the
result, run directory included.  The workers of a cluster need rnnlab installed and the same
paths (the job's ``cwd``, the data, the output directory).  Both backends are optional: ``pip
install rnnlab[sweep]``.  Used by :mod:`rnnlab.commands.compare`.
"""

import os
import shlex
import subprocess
import sys
from pathlib import Path

from rnnlab.errors import RnnlabError

__all__ = ["run_job", "connect", "execute"]


def run_job(job):
    """Run one job's commands in fresh Python processes, in order, until one fails.

    Module-level (and importable) so that joblib and dask can ship it by reference.

    Parameters
    ----------
    job : dict
        ``name``, ``commands`` (each a list: module, then arguments, run as
        ``python -m module args``), ``cwd``, ``log`` (file for their output) and ``run_dir``;
        optionally ``env``, environment variables to set for the commands.

    Returns
    -------
    dict
        ``name``, ``run_dir``, ``returncode`` (of the last command run) and ``log``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> log = pathlib.Path(tmp.name) / "logs" / "x.log"
    >>> job = {"name": "x", "commands": [["json.tool", "--help"]], "cwd": tmp.name,
    ...        "log": str(log), "run_dir": None}
    >>> run_job(job)["returncode"], log.read_text().startswith("$ python -m json.tool --help")
    (0, True)
    >>> tmp.cleanup()
    """
    log = Path(job["log"])
    log.parent.mkdir(parents=True, exist_ok=True)
    code = 0
    with open(log, "w", encoding="utf-8") as handle:
        for command in job["commands"]:
            handle.write("$ python -m " + shlex.join(command) + "\n")
            handle.flush()
            code = subprocess.run([sys.executable, "-m", *command], cwd=job["cwd"],
                                  env={**os.environ, **job.get("env", {})},
                                  stdin=subprocess.DEVNULL, stdout=handle,
                                  stderr=subprocess.STDOUT).returncode
            if code != 0:
                break
    return {"name": job["name"], "run_dir": job["run_dir"], "returncode": code, "log": str(log)}


def _require(module, extra="sweep"):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise RnnlabError(f"{module} is not installed; install it with `pip install "
                          f"rnnlab[{extra}]`") from None


def connect(address, timeout="10s"):
    """Connect to a dask.distributed scheduler.

    Parameters
    ----------
    address : str
        E.g. ``tcp://10.0.0.5:8786`` (what ``dask scheduler`` prints).
    timeout : str
        How long to keep trying.

    Returns
    -------
    distributed.Client

    Raises
    ------
    RnnlabError
        If distributed is not installed or the scheduler cannot be reached.

    Examples
    --------
    >>> connect("nonsense::")
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: --dask-scheduler nonsense::: cannot connect (invalid address ...)
    """
    distributed = _require("distributed")
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as err:
        raise RnnlabError(f"--dask-scheduler {address}: cannot connect ({err})") from None


def _share_cores(jobs, n_jobs):
    """Jobs running ``n_jobs`` at a time share the cores: each one's kernels get
    ``NUMBA_NUM_THREADS = cores // n_jobs`` (unless the caller set it), so that two trainings
    on two cores do not each wake two threads."""
    cores = os.cpu_count() or 1
    at_once = min(len(jobs), cores if n_jobs == -1 else max(n_jobs, 1))
    if at_once <= 1 or "NUMBA_NUM_THREADS" in os.environ:
        return jobs
    threads = str(max(1, cores // at_once))
    return [{**job, "env": {"NUMBA_NUM_THREADS": threads, **job.get("env", {})}} for job in jobs]


def execute(jobs, n_jobs=1, client=None, out=print):
    """Run jobs (see :func:`run_job`) with joblib, or on a dask.distributed cluster.

    Parameters
    ----------
    jobs : list of dict
    n_jobs : int
        How many at a time with joblib (-1: one per core).
    client : distributed.Client, optional
        Run on this cluster instead (see :func:`connect`); its workers decide how many at a
        time, and ``n_jobs`` is ignored.
    out : callable
        Receives one line per finished job.

    Returns
    -------
    list of dict
        :func:`run_job`'s results, in the order of ``jobs``.

    Raises
    ------
    RnnlabError
        If joblib is missing.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> jobs = [{"name": name, "commands": [["json.tool", flag]], "cwd": tmp.name,
    ...          "log": f"{tmp.name}/{name}.log", "run_dir": None}
    ...         for name, flag in (("ok", "--help"), ("bad", "--no-such-flag"))]
    >>> [r["returncode"] for r in execute(jobs, n_jobs=2, out=lambda line: None)]
    [0, 2]
    >>> tmp.cleanup()
    """
    results = {}

    def report(result):
        results[result["name"]] = result
        status = "done" if result["returncode"] == 0 else (
            f"exit code {result['returncode']}, see {result['log']}")
        out(f"[{len(results)}/{len(jobs)}] {result['name']}: {status}")

    if client is not None:
        from distributed import as_completed

        for future in as_completed(client.map(run_job, jobs, pure=False)):
            report(future.result())
    else:
        joblib = _require("joblib")
        jobs = _share_cores(jobs, n_jobs)
        parallel = joblib.Parallel(n_jobs=n_jobs, prefer="threads",
                                   return_as="generator_unordered")
        for result in parallel(joblib.delayed(run_job)(job) for job in jobs):
            report(result)
    return [results[job["name"]] for job in jobs]


if __name__ == "__main__":
    raise SystemExit("rnnlab.training.sweep is a library module, not a command: "
                     "python -m rnnlab.compare --config FILE --vary ... [--jobs N | --dask-scheduler ADDRESS] runs grids "
                     "(see its --help)")
