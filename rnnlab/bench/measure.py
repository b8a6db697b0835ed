"""Timing, memory and machine facts for the benchmark.

* :func:`time_steps` times calls one by one with ``time.perf_counter``; the benchmark reports the
  median of those times for every repeat and the median of the repeats;
* :func:`interleave` runs repeats of several frameworks in turn, rotating who goes first, so
  slow drifts of a shared machine spread evenly over the frameworks;
* :func:`rss_bytes`, :func:`peak_rss_bytes` and :func:`reset_peak_rss` read the resident set
  (``/proc/self/status``, ``resource.getrusage``);
* :func:`machine_info` records what the numbers depend on (cores, library versions, threads).
"""

import datetime
import os
import platform
import resource
import sys
import time
from importlib import metadata

__all__ = ["time_steps", "interleave", "auto_steps", "rss_bytes", "peak_rss_bytes",
           "reset_peak_rss", "cpu_count", "machine_info", "THREAD_VARIABLES"]

#: Environment variables that set thread counts of the BLAS and OpenMP libraries.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def time_steps(step, count):
    """Call ``step()`` ``count`` times; return each call's wall time in seconds.

    Parameters
    ----------
    step : callable
        Takes no arguments; its result is ignored.
    count : int
        ``>= 1``.

    Returns
    -------
    list of float
        ``count`` durations.

    Examples
    --------
    >>> times = time_steps(lambda: sum(range(1000)), 3)
    >>> len(times), all(t > 0 for t in times)
    (3, True)
    """
    if count < 1:
        raise ValueError(f"count={count!r}: expected >= 1")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return times


def interleave(jobs, repeats):
    """Run every job once per repeat, rotating the order; collect each job's results.

    Parameters
    ----------
    jobs : dict of str -> callable
        ``job()`` measures once and returns a value (e.g. a median step time).
    repeats : int
        Rounds; in round ``r`` the jobs start at position ``r`` of their order.

    Returns
    -------
    dict of str -> list
        ``repeats`` results per job, in round order.

    Examples
    --------
    >>> calls = []
    >>> jobs = {name: (lambda name=name: calls.append(name) or len(calls)) for name in "xy"}
    >>> interleave(jobs, 2), calls
    ({'x': [1, 4], 'y': [2, 3]}, ['x', 'y', 'y', 'x'])
    """
    names = list(jobs)
    results = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            results[name].append(jobs[name]())
    return results


def auto_steps(step_seconds, target=1.0, low=3, high=50):
    """Timed steps per repeat so that a repeat lasts about ``target`` seconds, within bounds.

    Parameters
    ----------
    step_seconds : float
        The time of one step (a warm-up step's).
    target : float
        Seconds a repeat should last.
    low, high : int
        The fewest and most steps.

    Returns
    -------
    int

    Examples
    --------
    >>> auto_steps(0.05), auto_steps(2.0), auto_steps(1e-5)
    (20, 3, 50)
    """
    wanted = int(round(target / max(step_seconds, 1e-9)))
    return max(low, min(high, wanted))


def _status_kib(field):
    """A ``kB`` field of ``/proc/self/status`` in KiB, or None where there is no such file."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes():
    """The process's resident set size now, in bytes (``VmRSS``; None off Linux).

    Examples
    --------
    >>> rss_bytes() > 1_000_000
    True
    """
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes():
    """The process's peak resident set size, in bytes.

    Since process start, or since the last :func:`reset_peak_rss`.  On Linux this is ``VmHWM``
    of ``/proc/self/status``, the peak of the process's own memory: ``getrusage(RUSAGE_SELF)
    .ru_maxrss`` would do, except that Linux carries the *parent's* peak into it across
    ``fork`` + ``exec``, so every subprocess of a large parent would report the parent's peak.
    Elsewhere ``ru_maxrss``.

    Examples
    --------
    >>> peak_rss_bytes() >= rss_bytes()
    True
    """
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux counts KiB


def reset_peak_rss():
    """Reset the peak resident set size to the current one (Linux ``/proc/self/clear_refs``).

    Afterwards :func:`peak_rss_bytes` reports the peak since this call, so the memory of a
    phase (training after compiling) can be told from the whole process's.

    Returns
    -------
    bool
        Whether the kernel allowed it.

    Examples
    --------
    >>> if reset_peak_rss():
    ...     assert peak_rss_bytes() < rss_bytes() + 50_000_000
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def cpu_count():
    """The cores this process may run on (its CPU affinity), else ``os.cpu_count()``.

    Examples
    --------
    >>> cpu_count() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info():
    """What the measurements depend on: cores, CPU, library versions, thread settings, date.

    Returns
    -------
    dict
        ``date`` (ISO 8601, UTC), ``cpu_count``, ``cpu_model``, ``platform``, ``python``,
        ``versions`` (numpy, pytensor, numba, torch, rnnlab; None when not installed) and
        ``thread_env`` (the :data:`THREAD_VARIABLES` that are set).

    Examples
    --------
    >>> info = machine_info()
    >>> info["cpu_count"] >= 1, sorted(info["versions"])
    (True, ['numba', 'numpy', 'pytensor', 'rnnlab', 'torch'])
    """
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in ("numpy", "pytensor", "numba", "torch",
                                                       "rnnlab")},
        "thread_env": {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ},
    }
