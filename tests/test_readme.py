"""Every command and code snippet in README.md and in the docs is exercised, here or by ``make``.

The README and the pages of ``docs/`` (:data:`DOCS`, in the order of the site's table of
contents) are read as one text.  Their fenced blocks are read (MyST directives such as
``{toctree}`` aside): every line of a ``bash`` block is a command (continuation
lines joined, ``# comments`` dropped, ``.venv/bin/`` meaning this Python's environment) and every
``python`` block is a snippet.  Blocks without a language hold pictures of files and may not hold
commands.  Each command must match one entry of :data:`EXERCISES`, which says how it is exercised:

* ``make demo`` and ``make test`` by the tests of ``tests/test_makefile.py`` named there (the
  demo's recipe with tiny sizes; the test recipe running the whole suite, this file included);
* everything else is **run here**, in README order from the project root (so ``sample`` finds
  the run ``train`` made), as the README writes it plus the cheap arguments of its entry: tiny
  sizes and step budgets, ``--seeds 1``, run folders in a temporary directory (``runs/...`` in
  a command or snippet means that directory), FAST_COMPILE; a command reading
  ``../shared/data/tinyshakespeare.txt`` (the results pages' corpus, not shipped) reads the
  bundled corpus instead.  ``dask scheduler`` / ``dask worker`` start a scheduler and a worker
  on this machine's loopback address first.  Grids (``compare --config``) need nothing the other
  commands make, so they run in a second thread, beside the rest.

A README command that matches no entry fails :func:`test_every_readme_command_is_exercised`:
add the way to exercise it to :data:`EXERCISES`.  A whole command quoted in the prose (``make
...``, ``.venv/bin/...``, ``python -m rnnlab.<command> ...``) must be one of the block commands
or one that a named test exercises; an inline ``pip install`` of an optional package is not
checked (no test installs packages).  The Lasagne-era snippet (Theano 1.0 + Lasagne 0.1, neither
installable on Python 3.11) is not run; the test checks that the rnnlab snippet after it is the
same code with only the imports changed, and runs that one.
"""

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The documentation pages whose commands run, in the order of docs/index.md's tables of contents.
DOCS = ["setup", "runs", "lasagne", "lasagne_api", "notebooks", "backend", "data", "dask", "layout",
        "results", "benchmarks"]
TEXT = "\n\n".join([README] + [(ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
                                for page in DOCS])

#: Tiny sizes appended to every command that trains from a config (text or series alike).
TINY = ["train.max_steps=3", "train.eval_every=2", "train.time_budget=0", "model.hidden=4",
        "data.max_chars=20000", "train.batch_size=4", "data.seq_len=8", "train.eval_batches=1",
        "run.sample_length=10", "run.progress=false"]


@dataclass
class Exercise:
    """How README commands matching ``pattern`` (a regex over the command) are exercised."""

    pattern: str
    extra: list = field(default_factory=list)  # appended arguments ("{runs}": the run folder)
    by_test: str = ""            # exercised by this test instead of being run here
    service: bool = False        # started in the background for the commands after it
    alone: bool = False          # needs nothing other commands make: may run beside them
    returncodes: tuple = (0,)
    check: object = None         # check(result, runs) -> None, asserts on the output


def _run_dirs_exist(result, runs):
    assert list(runs.glob("*/summary.json")), result.stdout


def _sampled(result, runs):
    assert result.stdout.startswith("ROMEO:") and len(result.stdout) > 300


def _forecast(result, runs):
    assert "rolling-origin backtest" in result.stdout
    assert list(runs.glob("*/forecast/forecast.json"))


def _future(result, runs):
    assert re.search(r"^forecast( by the refit .*)? of the \d+ steps after", result.stdout,
                     flags=re.M) and "covered" in result.stdout
    assert list(runs.glob("*/forecast/future.csv"))


def _report(result, runs):
    assert result.stdout.rstrip().splitlines()[-1].startswith("report: ")
    assert Path(result.stdout.rstrip().splitlines()[-1][len("report: "):]).is_file()


def _gpu(result, runs):
    if result.returncode == 2:      # no usable GPU here: one line, nothing trained
        assert re.fullmatch(r"error: device 'gpu' [^\n]*\n", result.stderr), result.stderr


def _torch_baseline(result, runs):
    if result.returncode == 2:      # PyTorch is optional: one line, nothing trained
        assert re.fullmatch(r"error: PyTorch is not installed[^\n]*\n", result.stderr), \
            result.stderr
    else:
        assert result.stdout.splitlines()[-1].startswith("pytorch "), result.stdout


#: The results pages' corpus beside the project (not shipped), and what the commands read instead.
SHARED_CORPUS, STAND_IN = "../shared/data/tinyshakespeare.txt", "data/shakespeare.txt"

EXERCISES = [
    Exercise(r"make demo", by_test="test_make_demo_writes_the_reports_plots_and_sample"),
    Exercise(r"make test", by_test="test_make_test_runs_the_whole_suite"),
    Exercise(r"make clean-cache", by_test="test_make_clean_cache_empties_the_compile_cache_only"),
    Exercise(r"make docs", by_test="test_make_docs_builds_the_site_without_warnings"),
    Exercise(r"python -m rnnlab\.warmup --setup",
             by_test="test_the_setup_step_compiles_the_shipped_experiments"),
    Exercise(r"python -m rnnlab\.warmup --dtypes float64",
             by_test="test_make_test_runs_the_whole_suite"),
    Exercise(r"python -m rnnlab\.\w+ --help"),
    Exercise(r"python -m rnnlab\.bench\.torch_train --config \S+( \S+=\S+)*", TINY,
             returncodes=(0, 2), check=_torch_baseline),
    Exercise(r"python -m rnnlab\.train --config \S+ --device gpu", TINY + ["run.dir={runs}"],
             returncodes=(0, 2), check=_gpu),
    Exercise(r"python -m rnnlab\.train --config \S+( \S+=\S+)*", TINY + ["run.dir={runs}"],
             check=_run_dirs_exist),
    Exercise(r"python -m rnnlab\.train --resume \S+( \S+=\S+)*",
             ["train.max_steps=4", "train.time_budget=0"]),
    Exercise(r"python -m rnnlab\.sample \S+( --\S+ \S+)*", check=_sampled),
    Exercise(r"python -m rnnlab\.forecast \S+", check=_forecast),
    Exercise(r"python -m rnnlab\.forecast \S+ --future \d+( --refit)?", check=_future),
    Exercise(r"python -m rnnlab\.compare --config \S+ --vary \S+( --\S+ \S+)*",
             ["--seeds", "1", "--jobs", "2"] + TINY + ["run.dir={runs}"], check=_report,
             alone=True),
    Exercise(r"python -m rnnlab\.compare( runs/\S+)+", check=_report),
    Exercise(r"python experiments/lasagne_char_lstm\.py( --\S+ \S+)*",
             ["--steps", "2", "--hidden", "8", "--seq-len", "8", "--batch-size", "4",
              "--print-every", "1", "--sample-len", "10"]),
    Exercise(r"python scripts/measure_modes\.py( --\S+( \S+)*)*",
             ["--modes", "FAST_COMPILE", "--cells", "elman", "--steps", "1", "--rounds", "1"]),
    Exercise(r"python -m rnnlab\.bench --device gpu( --\S+( [^-]\S*)?)*",
             ["--tiny", "--repeats", "1"], alone=True, returncodes=(0, 2), check=_gpu),
    Exercise(r"python -m rnnlab\.bench( --\S+( [^-]\S*)?)*",
             ["--tiny", "--skip-start", "--skip-memory", "--repeats", "1"], alone=True),
    Exercise(r"dask scheduler --port 8786", ["--host", "127.0.0.1", "--no-dashboard"],
             service=True),
    Exercise(r"dask worker tcp://scheduler-host:8786 --nthreads 1",
             ["--host", "127.0.0.1", "--no-dashboard"], service=True),
]


def fenced_blocks(text):
    """``(language, code)`` of every fenced block, in order; MyST directives are left out."""
    blocks = re.findall(r"^```(\{[\w-]+\}[^\n]*|\w*)\n(.*?)^```", text, flags=re.S | re.M)
    return [(language, code) for language, code in blocks if not language.startswith("{")]


def bash_commands(code):
    """The commands of a bash block: continuations joined, comments dropped, tokens as the shell
    splits them, ``.venv/bin/`` removed."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        tokens = shlex.split(line, comments=True)
        if tokens:
            tokens[0] = tokens[0].removeprefix(".venv/bin/")
            commands.append(tokens)
    return commands


BLOCKS = fenced_blocks(TEXT)
COMMANDS = [tokens for language, code in BLOCKS if language == "bash"
            for tokens in bash_commands(code)]
SNIPPETS = [code for language, code in BLOCKS if language == "python"]


def exercise_of(tokens):
    """The first entry of EXERCISES whose pattern matches the whole command, or None."""
    command = shlex.join(tokens)
    return next((e for e in EXERCISES if re.fullmatch(e.pattern, command)), None)


def _label(tokens):
    return shlex.join(tokens)[:70]


def _is_lasagne_era(code):
    return "import lasagne" in code and "import theano" in code and "rnnlab" not in code


def _body(code):
    return [line for line in code.splitlines() if not line.startswith(("import ", "from "))]


def test_the_readme_has_commands_and_snippets():
    assert len(COMMANDS) >= 10 and len(SNIPPETS) >= 3
    assert {language for language, _ in BLOCKS} <= {"bash", "python", ""}
    for language, code in BLOCKS:
        if language == "":                      # pictures of files, not commands
            assert not re.search(r"^\s*(\.venv/|python |make |pip |dask )", code, re.M), code


def test_every_readme_command_is_exercised():
    missing = [shlex.join(tokens) for tokens in COMMANDS if exercise_of(tokens) is None]
    assert not missing, ("README commands that no test exercises (add them to EXERCISES in "
                         f"tests/test_readme.py): {missing}")
    makefile_tests = (ROOT / "tests" / "test_makefile.py").read_text()
    for tokens in COMMANDS:
        name = exercise_of(tokens).by_test
        assert not name or f"def {name}(" in makefile_tests, name


def inline_commands(text):
    """Whole commands quoted in the prose (outside fenced blocks), as tokens."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    spans = re.findall(r"`([^`\n]+)`", prose)
    return [shlex.split(span.removeprefix(".venv/bin/")) for span in spans
            if re.match(r"(make \S|\.venv/bin/\S+ \S|python -m rnnlab\.\w+ \S)", span)]


def test_the_readme_is_short_and_every_docs_page_is_read_here():
    assert len(README.splitlines()) <= 200
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    listed = re.findall(r"^(\w[\w/]*)$", index, flags=re.M)
    assert [page for page in listed if not page.startswith("reference/")] == DOCS
    assert {p.stem for p in (ROOT / "docs").glob("*.md")} == set(DOCS) | {"index"}
    assert fenced_blocks("```{toctree}\na\n```\n\n```bash\nmake x\n```\n") == [("bash",
                                                                                 "make x\n")]


def test_commands_quoted_in_the_prose_are_exercised_too():
    inline = inline_commands(TEXT)
    assert ["make", "demo"] in inline
    missing = [shlex.join(tokens) for tokens in inline if tokens not in COMMANDS
               and not (exercise_of(tokens) and exercise_of(tokens).by_test)]
    assert not missing, f"commands quoted in the README's or docs' prose that no test exercises: {missing}"


def test_a_command_the_table_does_not_know_fails_the_check():
    assert exercise_of(["python", "-m", "rnnlab.train", "--config", "x.toml"]) is not None
    for unknown in (["pip", "install", "jupyterlab"], ["python", "-m", "rnnlab.reports.comparison"],
                    ["python", "-m", "rnnlab.train", "--config", "x.toml", "--fast"]):
        assert exercise_of(unknown) is None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert process.poll() is None, "the dask scheduler exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


class Session:
    """Runs the README's commands and snippets in order, in one temporary run folder."""

    def __init__(self, tmp):
        self.tmp, self.runs = tmp, tmp / "runs"
        self.port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTENSOR_")}
        self.env.update(PYTHONPATH=os.pathsep.join(filter(None, [
            str(ROOT), os.environ.get("PYTHONPATH")])), RNNLAB_MODE="FAST_COMPILE")
        self.services, self.results = [], {}

    def argv(self, tokens, exercise):
        def local(token):
            token = token.replace("scheduler-host:8786", f"127.0.0.1:{self.port}")
            token = "{port}" if token == "8786" else token
            token = token.replace(SHARED_CORPUS, STAND_IN)
            return str(self.tmp / token) if token.startswith("runs/") else token

        args = [local(t) for t in tokens] + [a.replace("{runs}", str(self.runs))
                                             for a in exercise.extra]
        args = [str(self.port) if a == "{port}" else a for a in args]
        program = {"python": [sys.executable], "dask": [sys.executable, "-m", "dask"]}
        return program[args[0]] + args[1:]

    def run(self, tokens):
        exercise = exercise_of(tokens)
        argv = self.argv(tokens, exercise)
        if exercise.service:
            log = open(self.tmp / f"service-{len(self.services)}.log", "w")
            process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.services.append((process, log))
            if tokens[1] == "scheduler":
                _wait_for_port(self.port, process)
            return None
        return subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)

    def snippet(self, code):
        code = code.replace('"runs/', f'"{self.tmp}/runs/')
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=600)

    def close(self):
        for process, log in self.services:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    """Every README command run here and every snippet: their results.

    The services start first; the commands that need nothing from the others (``alone``) run
    one after another in a second thread, beside the rest, which run in README order.
    """
    session = Session(tmp_path_factory.mktemp("readme"))
    steps = []
    for language, code in BLOCKS:
        if language == "bash":
            steps += [("bash", tokens) for tokens in bash_commands(code)
                      if exercise_of(tokens) and not exercise_of(tokens).by_test]
        elif language == "python" and not _is_lasagne_era(code):
            steps.append(("python", code))
    first = [tokens for kind, tokens in steps if kind == "bash" and exercise_of(tokens).service]
    beside = [tokens for kind, tokens in steps if kind == "bash" and exercise_of(tokens).alone]
    try:
        for tokens in first:
            session.run(tokens)
        with ThreadPoolExecutor(max_workers=1) as pool:
            futures = {shlex.join(tokens): pool.submit(session.run, tokens) for tokens in beside}
            for kind, item in steps:
                if kind == "python":
                    session.results[item] = session.snippet(item)
                elif item not in first and item not in beside:
                    session.results[shlex.join(item)] = session.run(item)
        session.results.update((key, future.result()) for key, future in futures.items())
        yield session
    finally:
        session.close()


RUN_HERE = [tokens for tokens in COMMANDS
            if exercise_of(tokens) and not exercise_of(tokens).by_test
            and not exercise_of(tokens).service]


@pytest.mark.parametrize("tokens", RUN_HERE, ids=[_label(t) for t in RUN_HERE])
def test_readme_command_runs(readme_run, tokens):
    result = readme_run.results[shlex.join(tokens)]
    exercise = exercise_of(tokens)
    assert result.returncode in exercise.returncodes, result.stdout[-2000:] + result.stderr[-3000:]
    if exercise.check:
        exercise.check(result, readme_run.runs)


RUN_SNIPPETS = [code for code in SNIPPETS if not _is_lasagne_era(code)]


@pytest.mark.parametrize("code", RUN_SNIPPETS,
                         ids=[f"snippet{i}" for i in range(len(RUN_SNIPPETS))])
def test_readme_snippet_runs(readme_run, code):
    result = readme_run.results[code]
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_lasagne_era_snippet_is_the_rnnlab_snippet_with_other_imports():
    pairs = [(code, SNIPPETS[i + 1]) for i, code in enumerate(SNIPPETS[:-1])
             if _is_lasagne_era(code)]
    assert len(pairs) == 1
    lasagne_era, ours = pairs[0]
    assert _body(lasagne_era) == _body(ours)
    imports = {line for line in ours.splitlines() if line.startswith("import ")}
    assert {"import rnnlab.nn as lasagne", "import pytensor as theano",
            "import pytensor.tensor as T"} <= imports
