"""Command-line plumbing shared by the commands (``python -m rnnlab.train``, ``.sample``, ...).

A command module defines ``main(argv)`` (parse ``argv`` with argparse, do the work), its console
script ``cli = console_script(main)`` (installed as ``rnnlab-<command>``, see ``setup.py``) and
ends with::

    if __name__ == "__main__":
        sys.exit(cli())

:func:`run_command` turns every :class:`~rnnlab.errors.RnnlabError` (bad config, missing data
file, unusable checkpoint, ...) into one line ``error: <message>`` on stderr and exit code 2, the
code argparse uses for bad arguments; ``--debug`` (anywhere before ``--``) or ``RNNLAB_DEBUG=1``
shows the full traceback instead.  Ctrl-C exits with code 130 and one line.  SIGTERM (what
schedulers, ``timeout`` and Dask send) is handled like Ctrl-C while the command runs
(:func:`raise_on_sigterm`): it raises :class:`~rnnlab.errors.Terminated` in the main thread, so
the same clean-up runs, and the command exits with code 143 and one line.  Any other exception
is a bug: the command prints one line naming itself, the exception and the file that keeps its
traceback (the run's ``traceback.txt`` when training had started, else a file in
``<cache dir>/crashes/``, see :func:`rnnlab.backend.cache_dir`) and exits with code 1.
"""

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from rnnlab import __version__, backend
from rnnlab.errors import ConfigError, RnnlabError, Terminated

__all__ = ["run_command", "console_script", "add_common_arguments", "Once", "raise_on_sigterm",
           "EXIT_ERROR", "EXIT_BUG", "EXIT_INTERRUPTED", "EXIT_TERMINATED"]

#: Exit code for an RnnlabError (the same as argparse's for bad arguments).
EXIT_ERROR = 2
#: Exit code after an unexpected exception (a bug), as Python's own.
EXIT_BUG = 1
#: Exit code after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Exit code after SIGTERM (128 + SIGTERM, as shells report it).
EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def raise_on_sigterm():
    """While the block runs, SIGTERM raises :class:`~rnnlab.errors.Terminated` in the main thread.

    SIGTERM's default action ends the process at once, without clean-up; under this handler it
    is an exception like Ctrl-C's ``KeyboardInterrupt``, so ``except`` and ``finally`` clauses run
    (the training loop writes ``summary.json`` with ``stop_reason: "terminated"``).  Only the
    first SIGTERM raises; later ones are ignored while that clean-up runs.  The previous handler
    is restored when the block ends.  :func:`run_command` uses it around every command; no
    library module installs a handler.  Outside the main thread (where Python cannot install
    signal handlers) the block runs with the handler as it was.

    Yields
    ------
    None

    Examples
    --------
    >>> import os, signal, time
    >>> before = signal.getsignal(signal.SIGTERM)
    >>> with raise_on_sigterm():
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         time.sleep(5)  # not reached, or cut short: the handler raises
    ...     except Terminated as stop:
    ...         print(type(stop).__name__, stop)
    Terminated SIGTERM
    >>> signal.getsignal(signal.SIGTERM) is before
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handler(signum, frame):
        nonlocal raised
        if not raised:
            raised = True
            raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        # None: the previous handler was not installed from Python; the default is the closest.
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _split_debug(argv):
    """Remove ``--debug`` from the options part of ``argv`` (tokens before a bare ``--``)."""
    out, debug, options = [], False, True
    for token in argv:
        if options and token == "--debug":
            debug = True
            continue
        if token == "--":
            options = False
        out.append(token)
    return out, debug


def run_command(main, argv=None):
    """Run a command's ``main(argv)``, turning rnnlab errors into one line and exit code 2.

    Parameters
    ----------
    main : callable
        ``main(argv)`` taking the list of arguments (without the program name).
    argv : sequence of str, optional
        The arguments; ``sys.argv[1:]`` by default.  ``--debug`` is removed before ``main`` sees
        it (tokens after a bare ``--`` are left alone).

    Returns
    -------
    object
        What ``main`` returned, when it returned normally.

    Raises
    ------
    SystemExit
        Code 2 after printing ``error: <message>`` (one line) to stderr for an
        :class:`~rnnlab.errors.RnnlabError`; code 130 after Ctrl-C; code 143 after SIGTERM
        (handled by :func:`raise_on_sigterm` while ``main`` runs); code 1 after any other
        exception (a bug), printing one line that names the command, the exception and the file
        holding its traceback.  With ``--debug`` or the environment variable ``RNNLAB_DEBUG=1``
        they propagate with their traceback instead.

    Examples
    --------
    >>> from rnnlab.errors import ConfigError
    >>> def main(argv):
    ...     if argv == ["--bad"]:
    ...         raise ConfigError("lstm.toml: unknown key 'model.cel' (did you mean 'model.cell'?)")
    ...     return argv
    >>> run_command(main, ["--debug", "x"])
    ['x']
    >>> import contextlib, io
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     try:
    ...         run_command(main, ["--bad"])
    ...     except SystemExit as exit:
    ...         print("exit code", exit.code)
    exit code 2
    >>> print(stderr.getvalue(), end="")
    error: lstm.toml: unknown key 'model.cel' (did you mean 'model.cell'?)
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    argv, debug = _split_debug(argv)
    debug = debug or os.environ.get("RNNLAB_DEBUG", "") not in ("", "0")
    try:
        with raise_on_sigterm():
            return main(argv)
    except RnnlabError as err:
        if debug:
            raise
        message = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        print(f"error: {message or type(err).__name__}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None
    except Terminated:
        if debug:
            raise
        print("terminated (SIGTERM)", file=sys.stderr)
        raise SystemExit(EXIT_TERMINATED) from None
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted (Ctrl-C)", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as err:
        if debug:
            raise
        command = _command_name(main)
        path = getattr(err, "traceback_file", None) or _keep_traceback(err, command)
        message = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        where = f"the traceback is in {path}" if path else "its traceback is above"
        print(f"error: {command} stopped on an unexpected {type(err).__name__}"
              f"{': ' + message[:300] if message else ''}; {where} (a bug: please report it)",
              file=sys.stderr)
        raise SystemExit(EXIT_BUG) from None


def _command_name(main):
    """``rnnlab.train`` for ``rnnlab.commands.train.main``."""
    module = getattr(main, "__module__", None) or "rnnlab"
    return module.replace("rnnlab.commands.", "rnnlab.")


def _keep_traceback(err, command):
    """Write the traceback of ``err`` to ``<cache dir>/crashes/`` (else the temporary folder);
    return the path, or print the traceback and return None when nothing can be written."""
    text = "".join(traceback.format_exception(err))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = f"{command}-{stamp}-{os.getpid()}.txt"
    for folder in (lambda: backend.cache_dir() / "crashes", lambda: Path(tempfile.gettempdir())):
        try:
            path = folder() / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, errors="replace")
            return path
        except Exception:  # an unusable folder: try the next one
            continue
    print(text, file=sys.stderr, end="")
    return None


def console_script(main):
    """Make a command's console-script entry point: run ``main`` through :func:`run_command`.

    Console scripts (``rnnlab-train`` and friends, declared in ``setup.py``) call their entry
    point with no arguments and exit with what it returns; ``python -m rnnlab.<command>`` calls
    the same function, so both behave alike.

    Parameters
    ----------
    main : callable
        ``main(argv)``, as for :func:`run_command`.

    Returns
    -------
    callable
        Taking no arguments; returns ``main``'s exit code (rnnlab errors exit with code 2).

    Examples
    --------
    >>> import sys
    >>> entry = console_script(lambda argv: len(argv))
    >>> saved, sys.argv = sys.argv, ["rnnlab-x", "a", "--debug", "b"]
    >>> entry()                                       # main saw ['a', 'b']
    2
    >>> sys.argv = saved
    """
    def entry():
        return run_command(main)

    entry.__name__ = entry.__qualname__ = "cli"
    entry.__doc__ = f"Console-script entry point: run {main.__module__}.main on sys.argv."
    return entry


def add_common_arguments(parser):
    """Add the options every rnnlab command has (``--debug``, ``--version``); one-line errors.

    ``--debug`` is acted on by :func:`run_command` (which removes it before ``main`` parses
    ``argv``); declaring it here makes it appear in ``--help``.  A command-line mistake (an
    unknown option, an invalid choice, a missing argument) raises
    :class:`~rnnlab.errors.ConfigError` instead of printing argparse's usage and exiting, so
    :func:`run_command` reports it like every other bad input: one line, exit code 2.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.

    Returns
    -------
    argparse.ArgumentParser
        The same parser.

    Examples
    --------
    >>> import argparse
    >>> parser = add_common_arguments(argparse.ArgumentParser(prog="rnnlab.sample"))
    >>> parser.parse_args(["--debug"]).debug
    True
    >>> parser.parse_args(["--length", "3"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: rnnlab.sample: unrecognized arguments: --length 3 (see --help)
    """
    if not isinstance(parser, argparse.ArgumentParser):
        raise TypeError(f"parser: got {type(parser).__name__}; expected an "
                        f"argparse.ArgumentParser")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback instead of a one-line error")
    parser.add_argument("--version", action="version", version=f"%(prog)s (rnnlab {__version__})")

    def error(message):
        raise ConfigError(f"{parser.prog}: {message} (see --help)")
    parser.error = error
    return parser


class Once(argparse.Action):
    """An option that names what a command reads (``--config``, ``--resume``): given twice it is
    one line, :class:`~rnnlab.errors.ConfigError`, where argparse would silently keep the last.

    Other options keep argparse's rule (the last one wins: the README's exercises append
    ``--seeds``).  Abbreviations count as the option (``--conf`` is ``--config``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="rnnlab.train")
    >>> _ = parser.add_argument("--config", action=Once)
    >>> parser.parse_args(["--config", "a.toml"]).config
    'a.toml'
    >>> parser.parse_args(["--config", "a.toml", "--conf=b.toml"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: rnnlab.train: --config is given twice ('a.toml', then 'b.toml'); \
expected it once
    """

    def __call__(self, parser, namespace, values, option_string=None):
        given = getattr(namespace, self.dest, None)
        if given is not None and given is not self.default:
            raise ConfigError(f"{parser.prog}: {self.option_strings[-1]} is given twice "
                              f"({str(given)!r}, then {str(values)!r}); expected it once")
        setattr(namespace, self.dest, values)
