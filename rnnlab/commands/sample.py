"""``python -m rnnlab.sample RUN``: sample text from a trained character language model.

The sampling itself (temperature, top-k and top-p, greedy choice, the prime) is
:func:`rnnlab.tasks.sampling.generate`.

Command line::

    python -m rnnlab.sample runs/shakespeare-lstm-s0 --length 500 --temperature 0.7 \\
        --prime "ROMEO:" --seed 3 --checkpoint best

Length, temperature and prime default to the run's ``run.sample_length``, ``run.temperature`` and
``run.prime`` settings.  The text is printed as it is generated, 64 characters at a time (an
interrupted sample keeps what was printed).  ``--length`` is capped at :data:`MAX_LENGTH` (a
million characters) unless ``--max-length`` raises the cap.  Errors (no such run, no checkpoint,
a series run, a prime character the model never saw) print one line and exit with code 2.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from rnnlab.commands.cli import add_common_arguments, console_script
from rnnlab.config.schema import MAX_SAMPLE_LENGTH
from rnnlab.datasets.text import Vocabulary
from rnnlab.errors import ConfigError, DataError
from rnnlab.run import CHECKPOINTS, RunDir
from rnnlab.tasks.sampling import stream
from rnnlab.training.session import load_run

__all__ = ["main", "MAX_LENGTH"]

#: The most characters one ``python -m rnnlab.sample`` makes unless ``--max-length`` says more
#: (the largest ``run.sample_length`` too).
MAX_LENGTH = MAX_SAMPLE_LENGTH


EXAMPLES = """examples:
  python -m rnnlab.sample runs/shakespeare_lstm-lstm-s0
  python -m rnnlab.sample runs/shakespeare_lstm-lstm-s0 --length 500 --temperature 0.5 \\
      --prime "ROMEO:"
  python -m rnnlab.sample runs/shakespeare_lstm-lstm-s0 --top-k 10 --top-p 0.9 --seed 3
  python -m rnnlab.sample runs/shakespeare_lstm-lstm-s0 --argmax --checkpoint latest

The text (prime included) goes to stdout.  Also installed as the command rnnlab-sample.
The text is printed as it is made; --length is capped at --max-length (default 1,000,000).
exit codes: 0 done; 2 no such run or checkpoint, a series run, a bad option or a prime character
outside the run's vocabulary (one line, nothing printed); 130 interrupted.
"""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.sample", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Generate text from a trained character language model.", epilog=EXAMPLES)
    parser.add_argument("run", type=Path, help="the run directory (runs/<name>)")
    parser.add_argument("--length", type=int, default=None,
                        help="characters to generate (default: the run's run.sample_length)")
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH, metavar="N",
                        help=f"refuse a --length above N (default {MAX_LENGTH:,})")
    parser.add_argument("--temperature", type=float, default=None,
                        help="> 0; below 1 is more conservative (default: run.temperature)")
    parser.add_argument("--prime", default=None,
                        help="text to start from (default: run.prime)")
    parser.add_argument("--top-k", type=int, default=0, metavar="K",
                        help="draw from the K most probable characters only (default 0: all)")
    parser.add_argument("--top-p", type=float, default=1.0, metavar="P",
                        help="draw from the smallest set of characters whose probability "
                             "reaches P, in (0, 1] (nucleus sampling; default 1: all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--argmax", action="store_true",
                        help="always take the most probable character")
    parser.add_argument("--checkpoint", choices=CHECKPOINTS, default="best",
                        help="which checkpoint to load (default best)")
    return add_common_arguments(parser)


def _check_prime(run, prime):
    """Reject a prime character outside the run's vocabulary (from meta.json) before compiling."""
    saved = run.read_meta().get("vocabulary")
    if saved is not None:
        vocab = Vocabulary.from_dict(saved, source=f"{run.meta_file}: 'vocabulary'")
        try:
            vocab.encode(prime)
        except DataError as err:
            raise DataError(f"prime: {err}") from None


def _check_cap(source, length, cap):
    if length > cap:
        raise ConfigError(f"{source}: {length:,} characters is more than the cap of {cap:,}; "
                          f"expected at most that, or a larger --max-length")


def main(argv=None):
    """Run ``python -m rnnlab.sample RUN [options]`` (``--help`` lists them); print the text.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).  Length, temperature and prime default to the
        run's ``run.sample_length``, ``run.temperature`` and ``run.prime``.

    Returns
    -------
    int
        The exit code, 0.  Under :func:`rnnlab.commands.cli.run_command` (as ``python -m``), an
        :class:`~rnnlab.errors.RnnlabError` becomes one line on stderr and exit code 2.

    Raises
    ------
    RnnlabError
        For a missing run or checkpoint, a series run or a prime character outside the
        vocabulary.

    Examples
    --------
    >>> main(["no/such/run"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: no/such/run: no such run directory
    """
    args = _parser().parse_args(argv)
    if args.length is not None and args.length < 0:
        raise ConfigError(f"--length: expected an int >= 0, got {args.length}")
    if args.max_length < 1:
        raise ConfigError(f"--max-length: expected an int >= 1, got {args.max_length}")
    if args.length is not None:
        _check_cap("--length", args.length, args.max_length)
    if args.temperature is not None and not (np.isfinite(args.temperature)
                                             and args.temperature > 0):
        raise ConfigError(f"--temperature: expected a number > 0, got {args.temperature}")
    if args.seed < 0:
        raise ConfigError(f"--seed: expected an int >= 0, got {args.seed}")
    if args.top_k < 0:
        raise ConfigError(f"--top-k: expected an int >= 0 (0 = every character), got "
                          f"{args.top_k}")
    if not (np.isfinite(args.top_p) and 0 < args.top_p <= 1):
        raise ConfigError(f"--top-p: expected a number in (0, 1] (1 = every character), got "
                          f"{args.top_p}")
    run = RunDir(args.run).check()   # before compiling anything: fails in milliseconds
    run.check_kind("text")
    settings = run.load_config().run  # checked: a damaged config.json is one line too
    run.check_checkpoint(args.checkpoint)
    length = settings.sample_length if args.length is None else args.length
    if args.length is None:  # --length was checked with the other options
        _check_cap("run.sample_length", length, args.max_length)
    temperature = settings.temperature if args.temperature is None else args.temperature
    prime = settings.prime if args.prime is None else args.prime
    _check_prime(run, prime)
    session = load_run(args.run, which=args.checkpoint)
    for piece in stream(session, length=length, temperature=temperature, prime=prime,
                        seed=args.seed, argmax=args.argmax, top_k=args.top_k, top_p=args.top_p):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


cli = console_script(main)

if __name__ == "__main__":
    sys.exit(cli())
