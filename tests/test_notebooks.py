"""The teaching notebooks in experiments/notebooks/ run top to bottom and each shows a plot.

Each notebook is executed with nbclient in a fresh kernel of the Python running the tests (the
``python3`` kernel spec resolves to ``sys.executable``; a first cell added to the executed copy
checks it), importing this checkout's ``rnnlab`` (``PYTHONPATH``), in FAST_COMPILE mode and with
``RNNLAB_NOTEBOOK_SIZE=small``: the notebooks' quick settings (the compile cache is this
process's ``RNNLAB_CACHE_DIR``).  The stored notebooks carry no
outputs.
"""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "experiments" / "notebooks").glob("*.ipynb"))
CHECK = ("import sys, json, rnnlab\n"
         "print(json.dumps({'python': sys.executable, 'rnnlab': rnnlab.__file__}))")


def test_the_five_notebooks_are_stored_without_outputs():
    assert [path.name[:2] for path in NOTEBOOKS] == ["1_", "2_", "3_", "4_", "5_"]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code, path.name
        assert all(cell.outputs == [] and cell.execution_count is None for cell in code), \
            f"{path.name}: stored with outputs (clear them before committing)"


def _execute(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(CHECK, id="test-check"))
    client = NotebookClient(notebook, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(notebook, tmp_path / path.name)       # kept for a look when a test fails
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_and_shows_a_plot(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("RNNLAB_MODE", "FAST_COMPILE")
    monkeypatch.setenv("RNNLAB_NOTEBOOK_SIZE", "small")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.delenv("RNNLAB_COMPARE_DIR", raising=False)
    # conftest's configure() wrote PYTENSOR_FLAGS for this process; the kernel configures itself.
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    notebook = _execute(path, tmp_path)

    check = json.loads(notebook.cells[0].outputs[0]["text"])
    assert Path(check["python"]).resolve() == Path(sys.executable).resolve()
    assert Path(check["rnnlab"]).resolve() == ROOT / "rnnlab" / "__init__.py"
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert not [output for output in outputs if output["output_type"] == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs), \
        f"{path.name} shows no plot"
