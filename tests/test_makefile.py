"""The Makefile: ``make demo`` (its recipe, tiny), ``make test`` (the whole suite), ``make docs``.

``make demo`` is run for real, with this Python's environment instead of ``.venv`` (``BIN``; no
installation step), tiny sizes through ``DEMO_OVERRIDES``, ``DEMO_MODE=FAST_COMPILE`` and a
temporary ``DEMO_DIR``; the timings of the real thing are in the README.
"""

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ("train.max_steps=3 train.eval_every=2 model.hidden=4 data.max_chars=20000 "
        "train.batch_size=4 data.seq_len=8 train.eval_batches=1 run.sample_length=10")


def _recipe(target):
    """The recipe lines of a Makefile target."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:[^\n]*\n((?:\t[^\n]*\n)+)", text, flags=re.M)
    assert match, f"no target {target!r} in the Makefile"
    return [line[1:] for line in match.group(1).splitlines()]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_writes_the_reports_plots_and_sample(tmp_path):
    demo = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTENSOR_")}
    env.update(PYTHONPATH=str(ROOT), RNNLAB_MODE="FAST_COMPILE")
    result = subprocess.run(
        ["make", "--no-print-directory", "demo", f"BIN={Path(sys.executable).parent}", "STAMP=",
         f"DEMO_DIR={demo}", "DEMO_SECONDS=0", "DEMO_MODE=FAST_COMPILE",
         f"DEMO_OVERRIDES={TINY}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    plots = {"val_loss_vs_step.png", "val_loss_vs_time.png", "gradients_vs_lag.png"}
    for part in ("shakespeare", "airline"):
        assert (demo / part / "report.md").is_file()
        assert plots <= {path.name for path in (demo / part).glob("*.png")}
        assert sorted(p.name for p in (demo / part / "runs").iterdir()) == ["cell-elman_s0",
                                                                            "cell-lstm_s0"]
    forecasts = sorted(demo.glob("airline/runs/*/forecast/forecast.png"))
    assert len(forecasts) == 2
    sample = (demo / "sample.txt").read_text()
    assert sample.startswith("ROMEO:") and len(sample) == len("ROMEO:") + 300 + 1
    # It ends by listing what it wrote, with the sample itself.
    out = result.stdout
    tail = out[out.index("Comparison reports:"):]
    for path in [demo / "shakespeare" / "report.md", demo / "airline" / "report.md",
                 demo / "sample.txt", *forecasts] + [demo / "shakespeare" / p for p in plots]:
        assert str(path) in tail
    assert tail.rstrip().endswith(sample.rstrip())


def test_make_test_runs_the_whole_suite():
    """``make test``: the suite as pytest.ini defines it (this file and test_readme.py too)."""
    assert _recipe("test") == ["$(BIN)/python -m rnnlab.warmup --dtypes float64",
                               "$(BIN)/python -m pytest -n 2 --dist loadfile"]
    ini = configparser.ConfigParser()
    ini.read(ROOT / "pytest.ini")
    assert ini["pytest"]["testpaths"].split() == ["tests", "rnnlab"]
    assert "-m " not in ini["pytest"]["addopts"] and "-k " not in ini["pytest"]["addopts"]


def test_both_commands_set_up_the_environment_first():
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: \$\(STAMP\)$", text, flags=re.M)
    assert re.search(r"^test: \$\(STAMP\)$", text, flags=re.M)
    setup = _recipe(r"\$\(STAMP\)")
    assert setup[0] == "test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)"
    assert any("-r requirements-dev.txt" in line for line in setup)
    assert any("-e ." in line for line in setup)
    # ... and ends by compiling the kernels and the shipped experiments' models (README).
    assert setup[-2:] == ["$(BIN)/python -m rnnlab.warmup --setup", "touch $(STAMP)"]


def test_the_setup_step_compiles_the_shipped_experiments():
    """The set-up's last step as make runs it (here in FAST_COMPILE, with the tests' cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTENSOR_")}
    env.update(RNNLAB_MODE="FAST_COMPILE")
    done = subprocess.run([sys.executable, "-m", "rnnlab.warmup", "--setup"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("rnnlab.warmup: 3 kernel groups (float32), 3 models, 2 processes")
    assert lines[-1].startswith("rnnlab.warmup: ready in ")
    kernels = [line.split()[2] for line in lines[1:-1] if " kernels " in line]
    models = [Path(line.split()[4]).name for line in lines[1:-1] if " model of " in line]
    assert sorted(kernels) == ["crossentropy", "elman", "lstm"]
    assert sorted(models) == ["airline_lstm.toml", "shakespeare_elman.toml",
                              "shakespeare_lstm.toml"]
    # each model is compiled after its cell's kernels
    for name in models:
        cell = name.split("_")[1].split(".")[0]
        assert lines.index(next(l for l in lines if f"/{name} " in l)) > \
            lines.index(next(l for l in lines if f" {cell} kernels " in l))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_cache_empties_the_compile_cache_only(tmp_path):
    cache = tmp_path / ".cache" / "pytensor"
    (cache / "compiledir").mkdir(parents=True)
    (tmp_path / ".cache" / "other").mkdir()
    result = subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "Makefile"),
                             "clean-cache"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert not cache.exists() and (tmp_path / ".cache" / "other").is_dir()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_docs_builds_the_site_without_warnings(tmp_path):
    """The site from docs/ and the docstrings: Sphinx's warnings are errors (-W)."""
    out = tmp_path / "html"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTENSOR_")}
    env.update(PYTHONPATH=str(ROOT))
    result = subprocess.run(["make", "--no-print-directory", "docs",
                             f"BIN={Path(sys.executable).parent}", "STAMP=", f"DOCS_OUT={out}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    assert {"index.html", "setup.html", "benchmarks.html", "reference/training.html",
            "reference/nn.html"} <= pages
    training = (out / "reference" / "training.html").read_text(encoding="utf-8")
    assert "rnnlab.training.loop.train" in training and "Examples" in training


def test_every_public_module_is_on_a_reference_page():
    pages = " ".join(p.read_text() for p in (ROOT / "docs" / "reference").glob("*.rst"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)$", pages, flags=re.M))
    public = set()
    for path in (ROOT / "rnnlab").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if not any(part.startswith("_") for part in parts) and len(parts) > 1:
            public.add(".".join(parts))
    entry_points = {f"rnnlab.{name}" for name in ("train", "sample", "forecast", "compare",
                                                   "warmup")}
    assert public - entry_points - documented == set()
