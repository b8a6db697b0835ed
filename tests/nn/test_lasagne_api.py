"""docs/lasagne_api.md lists every name of Lasagne's documented API: the tables must be true."""

import inspect
import re
from pathlib import Path

import rnnlab.nn

PAGE = Path(__file__).resolve().parents[2] / "docs" / "lasagne_api.md"
ROW = re.compile(r"^\| `(?P<name>[A-Za-z_0-9]+)` \| (?P<status>present|differs|absent) \| "
                 r"(?P<note>.*) \|$")


def _tables():
    module, found = None, {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## `lasagne\.(\w+)`$", line)
        if heading:
            module = heading.group(1)
            found[module] = []
        elif line.startswith("| `"):
            row = ROW.match(line)
            assert row and module, f"malformed row in {PAGE.name}: {line}"
            found[module].append(row.groupdict())
    return found


def test_the_page_covers_every_module_rnnlab_nn_mirrors():
    tables = _tables()
    assert sorted(tables) == ["init", "layers", "nonlinearities", "objectives", "random",
                              "regularization", "updates", "utils"]
    assert sum(len(rows) for rows in tables.values()) > 150


def test_present_names_exist_and_absent_names_do_not():
    for module, rows in _tables().items():
        namespace = getattr(rnnlab.nn, module)
        for row in rows:
            exists = hasattr(namespace, row["name"])
            if row["status"] == "absent":
                assert not exists, f"{module}.{row['name']} exists but is listed as absent"
                assert row["note"], f"{module}.{row['name']}: absent without a reason"
            else:
                assert exists, f"{module}.{row['name']} is listed as {row['status']} but missing"
            if row["status"] == "differs":
                assert row["note"], f"{module}.{row['name']}: differs without saying how"


def test_every_public_name_of_the_mirrored_modules_is_listed_or_an_addition():
    additions = {"BaseRecurrentLayer", "ElmanCell", "LSTMCell", "GRUCell", "recur",
                 "autocrop", "autocrop_array_shapes", "OptimizerUpdates", "get_state_values",
                 "set_state_values", "softmax_crossentropy", "RandomStreams"}
    for module, rows in _tables().items():
        namespace = getattr(rnnlab.nn, module)
        listed = {row["name"] for row in rows}
        public = set(getattr(namespace, "__all__", ())) or {
            name for name in dir(namespace) if not name.startswith("_")
            and not inspect.ismodule(getattr(namespace, name))}
        assert not public - listed - additions, f"{module}: {sorted(public - listed - additions)}"
