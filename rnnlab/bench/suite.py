"""Run the benchmark: training and sampling speed side by side, then memory and start-up.

For every configuration and cell, in one process:

1. build each framework's model; rnnlab's first (its session, compiled), then the others with a
   copy of rnnlab's initial parameters, so all start from the same values;
2. ``warmup`` training steps each (JIT compilation, caches); their losses are recorded and agree
   across frameworks to float32 rounding, which checks that the models are the same;
3. ``repeats`` rounds in which every framework times ``steps`` training steps one by one, the
   order rotating from round to round; a framework's figure is the median step time of each
   round, and the median over the rounds: characters/second = ``batch * seq`` / that time;
4. the same for sampling: ``sample_length`` characters, one model call each, per round.

Memory (one configuration, every cell and framework) and start-up (likewise) are measured in
fresh processes by :func:`rnnlab.bench.probe.run_probe`: *cold* with an empty compile cache;
for rnnlab also *after set-up*, in a copy of a cache that the README's set-up step
(``python -m rnnlab.warmup --setup``, run once per benchmark by
:func:`~rnnlab.bench.probe.run_setup`) filled with the kernels and the shipped experiments'
models, but not the probe's; *warm* runs the same model again in that cache.
"""

import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field

from rnnlab import backend
from rnnlab.bench import measure, specs
from rnnlab.bench.numpy_runner import REFERENCE, NumpyRunner
from rnnlab.bench.probe import run_probe, run_setup
from rnnlab.bench.rnnlab_runner import RnnlabRunner
from rnnlab.bench.torch_runner import TorchRunner

__all__ = ["Plan", "run_benchmark"]


@dataclass
class Plan:
    """What to measure, as the command line resolved it.

    Attributes
    ----------
    configs : list of rnnlab.bench.specs.BenchConfig
    cells : list of str
    frameworks : list of str
        In build order (see :data:`rnnlab.bench.specs.FRAMEWORKS`).
    text : str
        The corpus.
    mode : str
        rnnlab's compile mode (``''``: its default).
    device : {'cpu', 'gpu'}
        Where rnnlab and PyTorch train and sample (the numpy reference runs on the CPU).
    steps : int or None
        Timed steps per round; None: enough for about a second (3 to 50).
    repeats, warmup, sample_length, max_chars : int
    memory_config, start_config : rnnlab.bench.specs.BenchConfig or None
        None skips that measurement.
    memory_steps : int
        Training steps of a memory probe.
    setup_args : list of str
        Arguments of ``rnnlab.warmup`` for the set-up before the *after set-up* start probes.
    torch_threads : int or None
        PyTorch's intra-op threads; None: one per core.
    notes : list of str
        What was left out and why (e.g. PyTorch not installed), for the report.

    Examples
    --------
    >>> Plan([specs.TINY], ["elman"], ["numpy"], "t.txt").repeats
    3
    """

    configs: list
    cells: list
    frameworks: list
    text: str
    mode: str = ""
    device: str = "cpu"
    steps: int = None
    repeats: int = 3
    warmup: int = 3
    sample_length: int = 500
    max_chars: int = 0
    memory_config: object = None
    start_config: object = None
    memory_steps: int = 3
    setup_args: list = field(default_factory=lambda: ["--setup"])
    torch_threads: int = None
    notes: list = field(default_factory=list)


def _applies(framework, cell):
    if framework == "numpy":
        return cell in REFERENCE
    return True


def _runner(framework, bench, cell, plan, task, params):
    if framework == "rnnlab":
        return RnnlabRunner(bench, cell, plan.text, plan.mode, plan.max_chars, plan.device)
    if framework == "torch":
        return TorchRunner(bench, cell, task, params, threads=plan.torch_threads,
                           device=plan.device)

    return NumpyRunner(bench, cell, task, params)


def _missing(framework, cell):
    return "no numpy reference for this cell" if framework == "numpy" else "not measured"


def _timed_sample(runner, length):
    started = time.perf_counter()
    runner.sample(length)
    return time.perf_counter() - started


def _speed(bench, cell, plan, log):
    """Training and sampling rows of one configuration and cell, all frameworks interleaved."""
    task = specs.text_task(bench, plan.text, plan.max_chars)
    runners, params, built, losses = {}, None, {}, {}
    for framework in plan.frameworks:
        if not _applies(framework, cell):
            continue
        started = time.perf_counter()
        runner = _runner(framework, bench, cell, plan, task, params)
        params = params if params is not None else runner.parameters()
        losses[framework] = [runner.step() for _ in range(plan.warmup)]
        built[framework] = time.perf_counter() - started
        runners[framework] = runner
        log(f"  {bench.name} {cell:5s} {framework:6s} built and warmed up in "
            f"{built[framework]:.1f} s")
    steps = {name: plan.steps or measure.auto_steps(measure.time_steps(r.step, 1)[0])
             for name, r in runners.items()}
    rounds = measure.interleave(
        {name: (lambda r=r, n=steps[name]: statistics.median(measure.time_steps(r.step, n)))
         for name, r in runners.items()}, plan.repeats)
    for runner in runners.values():
        runner.sample(min(5, plan.sample_length))  # compiles the sampling path (NUMBA, JAX)
    samples = measure.interleave(
        {name: (lambda r=r: _timed_sample(r, plan.sample_length)) for name, r in runners.items()},
        plan.repeats)
    training, sampling = [], []
    base = {"config": bench.name, "cell": cell}
    for framework in plan.frameworks:
        if framework not in runners:
            note = _missing(framework, cell)
            training.append(dict(base, framework=framework, chars_per_second=None, note=note))
            sampling.append(dict(base, framework=framework, chars_per_second=None, note=note))
            continue
        step = statistics.median(rounds[framework])
        seconds = statistics.median(samples[framework])
        training.append(dict(base, framework=framework,
                             chars_per_second=bench.chars_per_step / step, step_seconds=step,
                             round_step_seconds=rounds[framework], steps=steps[framework],
                             warmup_losses=losses[framework],
                             setup_seconds=built[framework]))
        if hasattr(runners[framework], "build_seconds"):
            training[-1]["build_seconds"] = runners[framework].build_seconds
        sampling.append(dict(base, framework=framework,
                             chars_per_second=plan.sample_length / seconds, seconds=seconds,
                             round_seconds=samples[framework]))
        log(f"  {bench.name} {cell:5s} {framework:6s} {training[-1]['chars_per_second']:10.0f} "
            f"chars/s training, {sampling[-1]['chars_per_second']:8.0f} chars/s sampling")
    return training, sampling


def _add_ratios(rows):
    """``ratio_to_torch`` in every row: its speed over PyTorch's in the same config and cell."""
    torch = {(r["config"], r["cell"]): r["chars_per_second"] for r in rows
             if r["framework"] == "torch"}
    for row in rows:
        reference = torch.get((row["config"], row["cell"]))
        row["ratio_to_torch"] = (row["chars_per_second"] / reference
                                 if reference and row["chars_per_second"] else None)


def _start(plan, framework, probe, setup):
    """The start-up probes of one framework and cell: cold, (rnnlab) after set-up, warm.

    *warm* runs in the cache the run before it filled: the copy of the set-up's, or the cold
    one where there is no set-up (other frameworks) or it failed.
    """
    caches = [tempfile.mkdtemp(prefix="rnnlab-bench-cache-")]
    try:
        row = {"cold": run_probe(framework, cache_dir=caches[0], **probe)}
        if framework == "rnnlab":
            if "done" not in setup:
                setup["dir"] = tempfile.mkdtemp(prefix="rnnlab-bench-setup-")
                setup["done"] = run_setup(setup["dir"], plan.setup_args, plan.mode)
            if "error" in setup["done"]:
                row["after_setup"] = dict(setup["done"])
            else:
                caches.append(tempfile.mkdtemp(prefix="rnnlab-bench-cache-"))
                shutil.copytree(setup["dir"], caches[-1], dirs_exist_ok=True)
                row["after_setup"] = run_probe(framework, cache_dir=caches[-1], **probe)
        row["warm"] = run_probe(framework, cache_dir=caches[-1], **probe)
    finally:
        for cache in caches:
            shutil.rmtree(cache, ignore_errors=True)
    return row


def _probes(plan, bench, log, start):
    rows, setup = [], {}
    for cell in plan.cells:
        for framework in plan.frameworks:
            if not _applies(framework, cell):
                continue
            row = {"config": bench.name, "cell": cell, "framework": framework}
            probe = dict(config=bench.name, cell=cell, text=plan.text, mode=plan.mode,
                         max_chars=plan.max_chars, torch_threads=plan.torch_threads)
            if start:
                row.update(_start(plan, framework, probe, setup))
                shown = [f"{k.replace('_', ' ')} " + (f"{row[k]['start_seconds']:.1f} s"
                                                     if "error" not in row[k] else "failed")
                         for k in ("cold", "after_setup", "warm") if k in row]
                log(f"  start {bench.name} {cell:5s} {framework:6s} {', '.join(shown)}")
            else:
                row.update(run_probe(framework, steps=plan.memory_steps, **probe))
                shown = (f"peak {row['peak_rss'] / 2**20:.0f} MiB" if "error" not in row
                         else "failed: " + row["error"])
                log(f"  memory {bench.name} {cell:5s} {framework:6s} {shown}")
            rows.append(row)
    if "dir" in setup:
        shutil.rmtree(setup["dir"], ignore_errors=True)
        log(f"  set-up (rnnlab.warmup {' '.join(plan.setup_args)}): "
            + (f"{setup['done']['seconds']:.0f} s" if "error" not in setup["done"]
               else "failed: " + setup["done"]["error"]))
    return rows, setup.get("done")


def run_benchmark(plan, log=lambda line: None):
    """Measure everything the plan asks for; return the results (JSON-ready).

    Parameters
    ----------
    plan : Plan
    log : callable
        Receives a progress line after each measurement.

    Returns
    -------
    dict
        ``machine`` (:func:`rnnlab.bench.measure.machine_info`), ``settings`` (the plan and the
        model's shared settings), ``training`` and ``sampling`` (one row per configuration, cell
        and framework: ``chars_per_second``, ``ratio_to_torch``, the rounds' times, ...; null
        speeds with a ``note`` where a framework has no such model), ``memory`` and ``start``
        (one row per cell and framework; empty when skipped; a start row has ``cold``,
        ``warm`` and for rnnlab ``after_setup``), ``setup`` (the set-up's seconds, or None).

    Examples
    --------
    >>> plan = Plan([specs.TINY], ["lstm"], ["numpy"], str(specs.default_text()), steps=2,
    ...             repeats=1, warmup=1, sample_length=5, max_chars=2000)
    >>> results = run_benchmark(plan)
    >>> row = results["training"][0]
    >>> row["framework"], row["chars_per_second"] > 0, row["ratio_to_torch"]
    ('numpy', True, None)
    """
    plan.mode = plan.mode or backend.settings()["mode"]
    results = {"machine": measure.machine_info(),
               "settings": dict(asdict(plan), configs=[asdict(c) for c in plan.configs],
                                memory_config=plan.memory_config and asdict(plan.memory_config),
                                start_config=plan.start_config and asdict(plan.start_config),
                                embedding_default=specs.EMBEDDING, lr=specs.LR, seed=specs.SEED,
                                optimizer="sgd", gradient_clipping=None, floatX="float32",
                                state="carried across steps (truncated BPTT), zeros at first"),
               "training": [], "sampling": [], "memory": [], "start": [], "setup": None}
    for bench in plan.configs:
        for cell in plan.cells:
            training, sampling = _speed(bench, cell, plan, log)
            results["training"] += training
            results["sampling"] += sampling
    _add_ratios(results["training"])
    _add_ratios(results["sampling"])
    if plan.memory_config is not None:
        results["memory"] = _probes(plan, plan.memory_config, log, start=False)[0]
    if plan.start_config is not None:
        results["start"], results["setup"] = _probes(plan, plan.start_config, log, start=True)
    if "torch" in plan.frameworks:
        import torch

        results["machine"]["torch_threads"] = torch.get_num_threads()
    return results
