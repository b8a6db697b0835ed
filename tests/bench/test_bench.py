"""python -m rnnlab.bench in its tiny mode: the JSON it writes, the tables, and the agreement of
the frameworks' losses from identical initial parameters.

One module-scoped run measures the speed of all three cells (in this process); the memory and
start-up probes (subprocesses) run for one cell, on the numpy reference only unless the slow
tests run too.  PyTorch is optional: without it the runs cover rnnlab and the numpy reference,
with it all three.
"""

import contextlib
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnlab.bench import cli, specs
from rnnlab.bench.cli import main
from rnnlab.bench.torch_runner import rnnlab_weights, torch_available, torch_weights
from rnnlab.commands.cli import run_command
from rnnlab.errors import ConfigError
from rnnlab.files import read_json

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ["rnnlab", "torch", "numpy"] if torch_available() else ["rnnlab", "numpy"]


def _run(argv, tmp_path, frameworks=FRAMEWORKS):
    path = tmp_path / "bench.json"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv + ["--tiny", "--frameworks", ",".join(frameworks),
                            "--json", str(path)]) == 0
    return read_json(path), stdout.getvalue()


@pytest.fixture(scope="module")
def speed(tmp_path_factory):
    return _run(["--skip-memory", "--skip-start"], tmp_path_factory.mktemp("speed"))


def _positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_speed_rows_cover_every_cell_and_framework_with_positive_finite_numbers(speed):
    results, _ = speed
    assert set(results) == {"machine", "settings", "training", "sampling", "memory", "start",
                            "setup", "command"}
    assert results["memory"] == [] and results["start"] == []
    machine = results["machine"]
    assert machine["cpu_count"] >= 1 and machine["versions"]["numpy"] == np.__version__
    assert (machine["versions"]["torch"] is not None) == torch_available()
    settings = results["settings"]
    assert settings["mode"] == "FAST_COMPILE" and settings["frameworks"] == FRAMEWORKS
    assert settings["configs"] == [{"name": "tiny", "batch": 3, "seq": 7, "hidden": 6,
                                    "embedding": 5}]
    for part in ("training", "sampling"):
        rows = results[part]
        assert [(r["cell"], r["framework"]) for r in rows] == [
            (cell, fw) for cell in specs.CELLS for fw in FRAMEWORKS]
        for row in rows:
            if row["framework"] == "numpy" and row["cell"] == "gru":
                assert row["chars_per_second"] is None and "no numpy reference" in row["note"]
                continue
            assert _positive(row["chars_per_second"]), row
            times = row["round_step_seconds"] if part == "training" else row["round_seconds"]
            assert len(times) == 2 and all(_positive(t) for t in times)
            if "torch" in FRAMEWORKS:
                assert _positive(row["ratio_to_torch"])
            else:
                assert row["ratio_to_torch"] is None
        torch_rows = [r for r in rows if r["framework"] == "torch"]
        assert all(r["ratio_to_torch"] == pytest.approx(1.0) for r in torch_rows)
    for row in results["training"]:
        if row["chars_per_second"] is not None:
            assert row["steps"] == 2 and len(row["warmup_losses"]) == 3
            expected = row["round_step_seconds"]
            assert row["chars_per_second"] == pytest.approx(21 / float(np.median(expected)))


def test_frameworks_from_the_same_parameters_compute_the_same_losses(speed):
    """rnnlab's initial parameters are copied into the others: three SGD steps agree.

    Each warm-up step's loss depends on the parameters after the previous steps' updates, so
    the agreement checks the gradients too (PyTorch's GRU included: its update gate is rnnlab's
    with the sign flipped).
    """
    results, _ = speed
    for cell in specs.CELLS:
        rows = {r["framework"]: r["warmup_losses"] for r in results["training"]
                if r["cell"] == cell and r.get("warmup_losses")}
        expected = {"rnnlab", "torch", "numpy"} & set(FRAMEWORKS)
        if cell == "gru":
            expected.discard("numpy")
        assert set(rows) == expected
        for framework, losses in rows.items():
            np.testing.assert_allclose(losses, rows["rnnlab"], rtol=1e-5, atol=1e-5,
                                       err_msg=f"{cell}: {framework} against rnnlab")
        # Training moves the loss: the check compares trajectories, not three copies of one value.
        assert len(set(np.round(rows["rnnlab"], 5))) == 3


def test_the_printed_tables_show_speeds_ratios_and_loss_agreement(speed):
    results, text = speed
    lines = text.splitlines()
    assert lines[0].startswith("Training speed, characters/second (x PyTorch); rnnlab mode "
                               "FAST_COMPILE")
    assert "loss Δ" in lines[1] and "rnnlab" in lines[1] and "numpy ref (f64)" in lines[1]
    rows = [line for line in lines if line.startswith("(tiny)")]
    assert len(rows) == 6 and [row.split()[7] for row in rows[:3]] == list(specs.CELLS)
    assert rows[2].split()[-2] == "—" and rows[5].split()[-1] == "—"  # no numpy GRU
    assert ("x)" in rows[0]) == ("torch" in FRAMEWORKS)
    assert "Sampling speed" in text and "Memory" not in text and "Start-up" not in text


def _check_probes(results, frameworks):
    memory, start = results["memory"], results["start"]
    assert [(r["cell"], r["framework"]) for r in memory] == [("lstm", f) for f in frameworks]
    for row in memory:
        assert "error" not in row, row
        assert row["config"] == "tiny"
        assert row["peak_rss"] >= row["rss_after_imports"] > 10 * 2 ** 20
        assert row["peak_increase"] == row["peak_rss"] - row["rss_after_imports"]
        assert row["peak_rss"] >= row["training_peak_rss"] > 0
        assert row["imports_pytensor"] == (row["framework"] == "rnnlab")
    assert [(r["cell"], r["framework"]) for r in start] == [("lstm", f) for f in frameworks]
    for row in start:
        phases = ("cold", "after_setup", "warm") if row["framework"] == "rnnlab" else ("cold",
                                                                                        "warm")
        assert [k for k in ("cold", "after_setup", "warm") if k in row] == list(phases)
        for phase in phases:
            found = row[phase]
            assert "error" not in found, found
            assert all(_positive(found[key]) for key in ("start_seconds", "import_seconds",
                                                         "first_step_seconds"))
            # The import time runs from the launch: at least the interpreter's own start.
            assert found["import_seconds"] > 0.005 and found["first_step_seconds"] < \
                found["start_seconds"]
        # The same model from the same seed in both processes (rnnlab: a fresh cache, then
        # the filled one): the first loss must not depend on the cache.
        assert row["cold"]["first_loss"] == pytest.approx(row["warm"]["first_loss"], rel=1e-6)
        if row["framework"] == "rnnlab":
            assert row["cold"]["mode"] == row["warm"]["mode"] == "FAST_COMPILE"
            assert row["after_setup"]["first_loss"] == pytest.approx(row["cold"]["first_loss"],
                                                                     rel=1e-6)
            setup = results["setup"]
            assert setup["seconds"] > 0 and setup["args"][-1] == "experiments/smoke_text.toml"
    if "rnnlab" not in frameworks:
        assert results["setup"] is None


def test_probes_report_memory_and_cold_and_warm_start(tmp_path):
    """The probe machinery on the cheapest framework (three subprocesses of ~0.5 s)."""
    results, text = _run(["--cells", "lstm"], tmp_path, frameworks=["numpy"])
    _check_probes(results, ["numpy"])
    assert "Memory, MiB, config (tiny)" in text and "peak while training" in text
    assert "Start-up, seconds from process start to the first finished training step" in text


@pytest.mark.slow
def test_probes_of_every_framework(tmp_path):
    """rnnlab's probes compile (a cold one into a fresh cache): ~30 s with PyTorch's."""
    results, _ = _run(["--cells", "lstm"], tmp_path)
    _check_probes(results, FRAMEWORKS)


def test_torch_layout_round_trips_and_flips_the_gru_update_gate():
    rng = np.random.default_rng(1)
    params = {"embed.W": rng.normal(size=(7, 3)), "out.W": rng.normal(size=(4, 7)),
              "out.b": rng.normal(size=7)}
    for gate in ("resetgate", "updategate", "hidden_update"):
        params.update({f"rec0.W_in_to_{gate}": rng.normal(size=(3, 4)),
                       f"rec0.W_hid_to_{gate}": rng.normal(size=(4, 4)),
                       f"rec0.b_{gate}": rng.normal(size=4)})
    weights = torch_weights(params, "gru")
    assert weights["rnn.weight_ih_l0"].shape == (12, 3)
    np.testing.assert_array_equal(weights["rnn.weight_ih_l0"][4:8],
                                  -params["rec0.W_in_to_updategate"].T)
    np.testing.assert_array_equal(weights["rnn.bias_ih_l0"][8:], params["rec0.b_hidden_update"])
    assert not weights["rnn.bias_hh_l0"].any()
    back = rnnlab_weights(weights, "gru")
    assert set(back) == set(params)
    for name, value in params.items():
        np.testing.assert_array_equal(back[name], value, err_msg=name)


@pytest.mark.parametrize("argv, message", [
    (["--cells", "lstm,rnn"], "error: --cells lstm,rnn: 'rnn' is not one of elman, lstm, gru"),
    (["--text", "no/such.txt"],
     "error: --text no/such.txt: no such file; expected a UTF-8 text file"),
    (["--configs", ""], "error: --configs '': expected a comma-separated list of a, b, c"),
    (["--start-config", "z"], "error: config 'z': expected one of a, b, c, tiny"),
])
def test_bad_arguments_fail_in_one_line_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        run_command(main, argv)
    assert exit.value.code == 2
    assert capsys.readouterr().err.strip() == message


def test_asking_for_torch_without_torch_is_an_error_and_the_default_leaves_it_out(monkeypatch):
    monkeypatch.setattr("rnnlab.bench.torch_runner.torch_available", lambda: False)
    with pytest.raises(ConfigError, match="--frameworks torch: PyTorch is not installed"):
        cli._frameworks("rnnlab,torch", "cpu", [])
    notes = []
    assert cli._frameworks(None, "cpu", notes) == ["rnnlab", "numpy"]
    assert notes and "PyTorch is not installed" in notes[0]


@pytest.mark.skipif(not torch_available(), reason="PyTorch is not installed")
def test_on_the_gpu_torch_without_cuda_is_an_error_and_the_default_leaves_it_out(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="--frameworks torch: PyTorch has no CUDA device"):
        cli._frameworks("torch", "gpu", [])
    notes = []
    assert cli._frameworks(None, "gpu", notes) == ["rnnlab", "numpy"]
    assert "PyTorch has no CUDA device here" in notes[0]
    assert cli._frameworks(None, "cpu", []) == ["rnnlab", "torch", "numpy"]


def test_device_gpu_fails_in_one_line_where_there_is_no_gpu(capsys):
    from rnnlab import backend
    from rnnlab.errors import BackendError

    with pytest.raises(SystemExit) as exit:
        run_command(main, ["--device", "gpu", "--mode", "numba"])
    assert exit.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: --device gpu --mode NUMBA: the GPU runs through PyTensor's JAX backend; drop "
        "--mode or pass --mode JAX")
    try:
        backend.check_device("gpu")
    except BackendError as err:
        expected = f"error: {err}"
    else:
        pytest.skip("this machine has a GPU that JAX sees")
    with pytest.raises(SystemExit) as exit:
        run_command(main, ["--device", "gpu", "--tiny"])
    assert exit.value.code == 2
    assert capsys.readouterr().err.strip() == expected
    assert expected.startswith("error: device 'gpu' ")


def test_the_command_runs_as_a_module_with_help_and_examples():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "rnnlab.bench", "--help"], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: python -m rnnlab.bench" in done.stdout
    assert "python -m rnnlab.bench --tiny" in done.stdout and "--skip-start" in done.stdout
