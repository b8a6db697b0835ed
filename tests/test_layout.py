"""The package layout, read from the source with :mod:`ast`: imports flow one way.

Every import of an rnnlab module is collected from every module of ``rnnlab/``, at module level
and inside functions.  The checks: no import circles; no import of another module's ``_private``
name; no rnnlab import inside a function (optional dependencies may be imported there); every
package imports only packages of a lower layer (the order is :data:`LAYERS`: the foundations,
the config, then the data, the run directory and the scores that the tasks and the model build
on, then training, reports and commands); the top level holds the foundations and one thin
entry point per command.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rnnlab"

#: The layers, lowest first.  A module may import modules of its own package, and of any package
#: in a lower layer; two packages in one layer do not import each other.
LAYERS = (
    {"errors"},
    {"files"},
    {"nn", "reference"},
    {"compat"},
    {"backend"},
    {"config"},
    {"datasets"},
    {"run"},
    {"evaluation"},
    {"tasks", "model"},
    {"training"},
    {"reports"},
    {"commands"},
    {"bench"},
    {"train", "sample", "forecast", "compare", "warmup"},
)

#: Modules that import by name at run time (``importlib.import_module``, ``__import__``), and
#: why: only optional dependencies, which the static scan could not follow otherwise.
DYNAMIC_IMPORTS = {
    "rnnlab.nn.ops.jax_rewrites": "the ops' JAX translations, which import JAX (optional), "
                                  "loaded when JAX compiles a graph",
    "rnnlab.training.sweep": "Dask (optional), for grids on a cluster",
}

#: The top level: the foundations, and one entry point per ``python -m rnnlab.<command>``.
TOP_LEVEL = {"__init__", "errors", "files", "backend"}
ENTRY_POINTS = {"train", "sample", "forecast", "compare", "warmup"}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name, path):
    """``(target module, imported name or None, line, inside a function)`` for each rnnlab import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, None, child.lineno, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([child.module] if child.module else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    if full in MODULES:
                        found.append((full, None, child.lineno, inside))
                    else:
                        found.append((base, alias.name, child.lineno, inside))
            visit(child, inside)

    visit(tree, False)
    return [item for item in found if item[0] == "rnnlab" or item[0].startswith("rnnlab.")]


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _dynamic_imports(path):
    """Lines calling ``import_module`` or ``__import__``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        getattr(node.func, "attr", None) == "import_module"
        or getattr(node.func, "id", None) in ("import_module", "__import__"))]


def _top(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _layer(top):
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(f"rnnlab.{top} belongs to no layer of tests/test_layout.py LAYERS")


def test_the_scan_sees_the_code():
    assert len(MODULES) > 100
    assert "rnnlab.training.session" in {target for target, _, _, _ in
                                         IMPORTS["rnnlab.training.loop"]}


def test_the_scan_finds_imports_inside_functions_and_relative_ones(tmp_path):
    source = tmp_path / "rnnlab" / "commands" / "example.py"
    source.parent.mkdir(parents=True)
    source.write_text("import json\nfrom . import cli\n\n"
                      "def f():\n    from rnnlab.run import _private\n    import torch\n\n"
                      "class C:\n    def m(self):\n        import rnnlab.files\n\n"
                      "g = lambda: __import__('rnnlab.config')\n")
    assert _imports("rnnlab.commands.example", source) == [
        ("rnnlab.commands.cli", None, 2, False), ("rnnlab.run", "_private", 5, True),
        ("rnnlab.files", None, 10, True)]
    assert _dynamic_imports(source) == [12]
    top = tmp_path / "rnnlab" / "backend.py"          # what rnnlab.backend did until 2026-12-04
    top.write_text("def _prepare():\n    from .nn.ops import linker\n")
    assert _imports("rnnlab.backend", top) == [("rnnlab.nn.ops.linker", None, 2, True)]


def test_imports_by_name_at_run_time_are_only_of_optional_dependencies():
    found = {name for name, path in MODULES.items() if _dynamic_imports(path)}
    assert found == set(DYNAMIC_IMPORTS), "explain it in DYNAMIC_IMPORTS, or import statically"


def test_no_import_circles():
    graph = {name: {target for target, _, _, _ in imports if target in MODULES}
             for name, imports in IMPORTS.items()}
    state, path, circles = {}, [], []

    def walk(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_no_module_imports_another_modules_private_names():
    found = [f"{name}:{line} imports {target}.{imported}"
             for name, imports in IMPORTS.items()
             for target, imported, line, _ in imports
             if imported and imported.startswith("_") and not imported.startswith("__")
             and target != name]
    assert not found, "\n".join(found)


def test_rnnlab_modules_are_imported_at_module_level():
    found = [f"{name}:{line} imports {target} inside a function"
             for name, imports in IMPORTS.items()
             for target, _, line, inside in imports if inside]
    assert not found, "\n".join(found)


def test_each_package_imports_only_its_own_layer_or_below():
    found = []
    for name, imports in IMPORTS.items():
        source = _top(name)
        if source is None:
            continue
        for target, _, line, _ in imports:
            top = _top(target)
            if top is None or top == source:
                continue
            if _layer(top) > _layer(source) or (_layer(top) == _layer(source)):
                found.append(f"{name}:{line} imports {target} (rnnlab.{source} is in layer "
                             f"{_layer(source)}, rnnlab.{top} in layer {_layer(top)})")
    assert not found, "\n".join(found)


def test_the_top_level_holds_the_foundations_and_the_entry_points():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == TOP_LEVEL | ENTRY_POINTS
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set().union(*LAYERS) == modules - {"__init__"} | packages
    for command in ENTRY_POINTS:
        tree = ast.parse((PACKAGE / f"{command}.py").read_text(encoding="utf-8"))
        imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
        assert [node.module for node in imports] == [f"rnnlab.commands.{command}"]
        assert len(tree.body) <= 4, f"rnnlab/{command}.py is an entry point: keep it thin"


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_every_package_says_what_lives_there_and_what_it_may_import(package):
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 30, f"rnnlab/{package}/__init__.py needs a docstring"
    assert "may import" in " ".join(doc.lower().split()), \
        f"rnnlab/{package}/__init__.py: say what the package may import"


def test_the_package_docstring_maps_every_package():
    doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    for top in set().union(*LAYERS) - ENTRY_POINTS:
        assert f"``{top}``" in doc, f"rnnlab/__init__.py does not mention {top}"
