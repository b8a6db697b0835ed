"""``python -m rnnlab.bench``: rnnlab against PyTorch and the numpy reference, side by side.

Parses the command line into a :class:`~rnnlab.bench.suite.Plan`, runs it
(:func:`~rnnlab.bench.suite.run_benchmark`), prints the tables (:mod:`rnnlab.bench.report`) and
writes the JSON.  Progress lines go to stderr, the tables to stdout.
"""

import argparse
import shlex
import sys
from pathlib import Path

from rnnlab import backend
from rnnlab.bench import specs, torch_runner
from rnnlab.bench.report import format_results
from rnnlab.bench.suite import Plan, run_benchmark
from rnnlab.commands.cli import add_common_arguments, console_script
from rnnlab.errors import ConfigError
from rnnlab.files import atomic_write_json

__all__ = ["main", "parse_list"]

EXAMPLES = """what is measured (see rnnlab/bench/suite.py):
  training    characters/second = batch * seq / median step time (median of --repeats rounds
              of --steps timed steps, frameworks interleaved round by round, after 3 warm-up
              steps); all frameworks start from rnnlab's initial parameters, and the warm-up
              losses must agree ("loss Δ")
  sampling    characters/second generating 500 characters one model call at a time
  memory      peak RSS of a process that trains --memory-config, each framework in its own
  start       seconds from process start to the first finished training step, --start-config:
              with an empty compile cache (cold); rnnlab also right after the README's set-up
              (python -m rnnlab.warmup --setup, run once into a fresh cache: kernels and the
              shipped experiments' models, not the probed one); again (warm)

examples:
  python -m rnnlab.bench                                  # configs a, b, c; all cells
  python -m rnnlab.bench --text /path/to/tinyshakespeare.txt --json bench.json
  python -m rnnlab.bench --configs a --cells lstm --skip-start --skip-memory
  python -m rnnlab.bench --mode CVM --frameworks rnnlab,torch
  python -m rnnlab.bench --tiny --json /tmp/tiny.json     # seconds: checks that it all works

configs: """ + "; ".join(c.label for c in specs.CONFIGS.values()) + f"""; embedding {specs.EMBEDDING},
plain SGD (lr {specs.LR}, no clipping), float32 (the numpy reference: float64), the recurrent
state carried from step to step.  PyTorch is optional: pip install -r requirements-bench.txt.
The machine's other load shows in every number: compare frameworks within one run.

installed as the console script rnnlab-bench.
exit codes: 0 measured; 2 bad arguments or text (one line on stderr)."""


def parse_list(text, allowed, option):
    """Parse a comma-separated choice list such as ``"a,c"``; unknown or repeated items fail.

    Parameters
    ----------
    text : str
    allowed : sequence of str
    option : str
        The option's name, for the error message.

    Returns
    -------
    list of str
        In the order of ``allowed``.

    Examples
    --------
    >>> parse_list("lstm, elman", ("elman", "lstm", "gru"), "--cells")
    ['elman', 'lstm']
    >>> parse_list("lstm,rnn", ("elman", "lstm", "gru"), "--cells")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: --cells lstm,rnn: 'rnn' is not one of elman, lstm, gru
    """
    items = [item.strip().lower() for item in text.split(",") if item.strip()]
    if not items:
        raise ConfigError(f"{option} {text!r}: expected a comma-separated list of "
                          f"{', '.join(allowed)}")
    for item in items:
        if item not in allowed:
            raise ConfigError(f"{option} {text}: {item!r} is not one of {', '.join(allowed)}")
    return [item for item in allowed if item in items]


def _positive(option):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{option} {text}: expected a positive integer")
        return value
    return parse


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.bench", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Benchmark rnnlab's training and sampling against PyTorch (when installed) "
                    "and the numpy reference on a character language model: speed, memory, "
                    "cold and warm start.",
        epilog=EXAMPLES)
    parser.add_argument("--text", type=Path, default=None,
                        help="corpus (default: data/shakespeare.txt of this checkout)")
    parser.add_argument("--configs", default="a,b,c", help="configurations (default a,b,c)")
    parser.add_argument("--cells", default="elman,lstm,gru",
                        help="cells (default elman,lstm,gru)")
    parser.add_argument("--frameworks", default=None,
                        help="default rnnlab,torch,numpy (torch when installed)")
    parser.add_argument("--mode", type=str.upper, choices=backend.MODES, default="",
                        help="rnnlab compile mode (default: RNNLAB_MODE, else "
                             f"{backend.DEFAULT_MODE})")
    parser.add_argument("--device", type=str.lower, choices=backend.DEVICES, default="cpu",
                        help="where rnnlab and PyTorch compute (default cpu; gpu: rnnlab "
                             "through PyTensor's JAX backend, PyTorch on CUDA; the numpy "
                             "reference stays on the CPU; no memory or start-up probes)")
    parser.add_argument("--steps", type=_positive("--steps"), default=None,
                        help="timed steps per round (default: about 1 s worth, 3 to 50)")
    parser.add_argument("--repeats", type=_positive("--repeats"), default=3,
                        help="interleaved rounds; the median is reported (default 3)")
    parser.add_argument("--memory-config", default="b", help="config of the memory probes "
                                                             "(default b)")
    parser.add_argument("--start-config", default="a", help="config of the start-up probes "
                                                            "(default a)")
    parser.add_argument("--skip-memory", action="store_true", help="no memory probes")
    parser.add_argument("--skip-start", action="store_true",
                        help="no start-up probes (a cold NUMBA compile takes minutes)")
    parser.add_argument("--torch-threads", type=_positive("--torch-threads"), default=None,
                        help="PyTorch's threads (default: one per core; on a busy machine and "
                             "at batch 1 one thread can be much faster)")
    parser.add_argument("--max-chars", type=int, default=0,
                        help="read only this many characters of the text (default 0: all)")
    parser.add_argument("--tiny", action="store_true",
                        help="tiny model, few steps, short samples, first 3000 characters: "
                             "checks that everything runs (replaces --configs and the probe "
                             "configs)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="write all results and the machine's details here")
    return add_common_arguments(parser)


def _torch_missing(device):
    """Why PyTorch cannot run on ``device`` here, or None."""
    if not torch_runner.torch_available():
        return "PyTorch is not installed (pip install -r requirements-bench.txt)"
    if device == "gpu":
        import torch

        if not torch.cuda.is_available():
            return "PyTorch has no CUDA device here (a CUDA build of torch is needed)"
    return None


def _frameworks(text, device, notes):
    missing = _torch_missing(device)
    if text is not None:
        chosen = parse_list(text, specs.FRAMEWORKS, "--frameworks")
        if "torch" in chosen and missing:
            raise ConfigError(f"--frameworks torch: {missing}")
        return chosen
    if not missing:
        return list(specs.FRAMEWORKS)
    notes.append(f"{missing}: no PyTorch column")
    return [f for f in specs.FRAMEWORKS if f != "torch"]


def _plan(args):
    text = args.text if args.text is not None else specs.default_text()
    if not Path(text).is_file():
        raise ConfigError(f"--text {text}: no such file; expected a UTF-8 text file")
    if args.max_chars < 0:
        raise ConfigError(f"--max-chars {args.max_chars}: expected an integer >= 0")
    notes = []
    mode = args.mode
    if args.device == "gpu":
        if mode not in ("", "JAX"):
            raise ConfigError(f"--device gpu --mode {mode}: the GPU runs through PyTensor's JAX "
                              "backend; drop --mode or pass --mode JAX")
        backend.check_device("gpu")
        mode = "JAX"
        if not (args.skip_memory and args.skip_start):
            notes.append("--device gpu: no memory or start-up probes (they measure CPU "
                         "processes)")
        args.skip_memory = args.skip_start = True
    plan = Plan(configs=[specs.find_config(c)
                         for c in parse_list(args.configs, tuple(specs.CONFIGS), "--configs")],
                cells=parse_list(args.cells, specs.CELLS, "--cells"),
                frameworks=_frameworks(args.frameworks, args.device, notes), text=str(text),
                mode=mode, device=args.device,
                steps=args.steps, repeats=args.repeats, max_chars=args.max_chars,
                memory_config=None if args.skip_memory else specs.find_config(args.memory_config),
                start_config=None if args.skip_start else specs.find_config(args.start_config),
                torch_threads=args.torch_threads, notes=notes)
    if args.tiny:
        tiny = specs.TINY
        plan.configs, plan.steps, plan.repeats, plan.sample_length = [tiny], 2, 2, 20
        plan.max_chars, plan.memory_steps = args.max_chars or 3000, 3
        plan.memory_config = plan.memory_config and tiny
        plan.start_config = plan.start_config and tiny
        plan.setup_args = ["--dtypes", "float32", "--models", "experiments/smoke_text.toml"]
    return plan


def main(argv=None):
    """Run ``python -m rnnlab.bench`` with ``argv`` (see ``--help``); return the exit code.

    Examples
    --------
    >>> main(["--configs", "a,d"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: --configs a,d: 'd' is not one of a, b, c
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    plan = _plan(args)

    results = run_benchmark(plan, log=lambda line: print(line, file=sys.stderr, flush=True))
    results["command"] = shlex.join(["python", "-m", "rnnlab.bench"] + argv)
    print(format_results(results))
    if args.json is not None:
        atomic_write_json(args.json, results)
        print(f"results written to {args.json}")
    return 0


#: The ``rnnlab-bench`` console script (see setup.py).
cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
