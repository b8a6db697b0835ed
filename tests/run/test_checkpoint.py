"""Tests for rnnlab.run.checkpoint: bitwise round trips, JSON metadata, clean refusal of bad files."""

import json
import pathlib

import numpy as np
import pytest

from rnnlab import errors, files
from rnnlab.errors import CheckpointError
from rnnlab.run.checkpoint import checkpoint_paths, load_checkpoint, load_meta, save_checkpoint


def make_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "param/lstm0.W_in_to_ingate": rng.standard_normal((5, 7)).astype("float32"),
        "param/dense.W": rng.standard_normal((7, 3)).T,                  # not C-contiguous
        "param/dense.b": rng.standard_normal(3).astype(">f4"),             # big-endian
        "opt/adam.t": np.array(12.0, dtype="float32"),                      # 0-d
        "opt/adam.m": np.zeros((0, 4), dtype="float64"),                    # empty
        "data/ids": rng.integers(0, 60, size=11, dtype="int32"),
        "data/mask": rng.random(4) > 0.5,
        "data/bytes": np.arange(250, 256, dtype="uint8"),
        "data/z": (rng.standard_normal(2) + 1j).astype("complex64"),
        "file": np.ones(1), "allow_pickle": np.ones(1),                    # np.savez's own names
    }


def make_meta():
    pcg = np.random.default_rng(2**100 + 7)
    pcg.standard_normal(3)
    mt = np.random.Generator(np.random.MT19937(5))
    return {"step": np.int64(300), "epoch": 1, "position": [2, 17], "lr": np.float32(0.5),
            "best_val_loss": float("inf"), "history": (1.5, 1.25), "name": "caf\u00e9",
            "flags": {"stopped": None, "nan": np.bool_(False)},
            "rng": pcg.bit_generator.state, "mt": mt.bit_generator.state,
            "big": 2**127 + 1, "w": np.arange(3, dtype="int16")}


def test_round_trip_is_bitwise_for_arrays_and_exact_for_metadata(tmp_path):
    arrays, meta = make_arrays(), make_meta()
    stem = tmp_path / "checkpoints" / "latest"
    npz_path, json_path = save_checkpoint(stem, arrays, meta)
    assert (npz_path, json_path) == checkpoint_paths(stem)
    loaded, loaded_meta = load_checkpoint(stem)
    assert list(loaded) == list(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape, name
        assert loaded[name].tobytes() == array.tobytes(), name
    expected_meta = json.loads(json.dumps(meta, default=lambda o: o.tolist()))
    assert loaded_meta == expected_meta
    assert loaded_meta["step"] == 300 and type(loaded_meta["step"]) is int
    assert type(loaded_meta["lr"]) is float and loaded_meta["history"] == [1.5, 1.25]
    assert loaded_meta["big"] == 2**127 + 1 and loaded_meta["flags"]["nan"] is False
    assert load_meta(str(stem) + ".json") == loaded_meta
    assert sorted(p.name for p in stem.parent.iterdir()) == ["latest.json", "latest.npz"]
    with np.load(npz_path, allow_pickle=False) as plain:  # an ordinary npz for other tools
        np.testing.assert_array_equal(plain["param/dense.W"], arrays["param/dense.W"])


def test_generator_states_restore_the_same_random_stream(tmp_path):
    pcg, mt = np.random.default_rng(123), np.random.Generator(np.random.MT19937(9))
    pcg.random(5), mt.random(5)
    save_checkpoint(tmp_path / "c", {}, {"pcg": pcg.bit_generator.state,
                                         "mt": mt.bit_generator.state})
    expected = pcg.random(4), mt.random(4)
    meta = load_checkpoint(tmp_path / "c")[1]
    pcg2, mt2 = np.random.default_rng(), np.random.Generator(np.random.MT19937())
    pcg2.bit_generator.state, mt2.bit_generator.state = meta["pcg"], meta["mt"]
    np.testing.assert_array_equal(pcg2.random(4), expected[0])
    np.testing.assert_array_equal(mt2.random(4), expected[1])


@pytest.mark.parametrize("arrays, meta, error, message", [
    ({"x": np.zeros(2)}, {"vocab": {"a", "b"}}, TypeError, r"meta\['vocab'\] = .*a set is not "
                                                           r"JSON metadata"),
    ({"x": np.zeros(2)}, {"ids": {3: "a"}}, TypeError, r"meta\['ids'\]: key 3 is a int; expected "
                                                       r"str keys"),
    ({"x": np.array([{}], dtype=object)}, {}, TypeError, r"arrays\['x'\]: dtype object needs "
                                                         r"pickle"),
    ({"x": np.array(["ab"])}, {}, TypeError, r"arrays\['x'\]: dtype <U2 .*expected bool, "),
    ({1: np.zeros(2)}, {}, ValueError, r"arrays: name 1: expected a non-empty string"),
    ([np.zeros(2)], {}, TypeError, r"arrays: got list; expected a dict"),
    ({}, [1], TypeError, r"meta: got list; expected a dict"),
])
def test_save_refuses_what_cannot_round_trip_and_writes_nothing(tmp_path, arrays, meta, error,
                                                                 message):
    with pytest.raises(error, match=message):
        save_checkpoint(tmp_path / "c", arrays, meta)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ bad files

@pytest.fixture
def saved(tmp_path):
    stem = tmp_path / "best"
    save_checkpoint(stem, {"param/W": np.arange(6, dtype="float32").reshape(2, 3),
                           "param/b": np.zeros(3, dtype="float32")}, {"step": 5})
    return stem


def test_missing_files_are_named(saved):
    npz_path, json_path = checkpoint_paths(saved)
    npz_path.unlink()
    with pytest.raises(CheckpointError, match=r"best\.npz: checkpoint arrays not found"):
        load_checkpoint(saved)
    with pytest.raises(CheckpointError, match=r"nothing\.json: checkpoint metadata not found"):
        load_checkpoint(saved.parent / "nothing")
    json_path.write_text('{"format": "rnnlab-checkpoint", ')
    with pytest.raises(CheckpointError, match=r"best\.json: invalid JSON at line 1"):
        load_checkpoint(saved)


class TouchOnUnpickle:
    """An object whose unpickling would create a file: proof that loading runs no pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def test_pickle_bearing_npz_is_refused_without_running_it(saved, tmp_path):
    marker = tmp_path / "pwned"
    npz_path = checkpoint_paths(saved)[0]
    np.savez(npz_path, **{"param/W": np.array([TouchOnUnpickle(marker)], dtype=object),
                          "param/b": np.zeros(3, dtype="float32")})
    assert not marker.exists()
    with pytest.raises(CheckpointError, match=r"best\.npz: holds pickled data .*which rnnlab "
                                              r"never loads"):
        load_checkpoint(saved)
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 3, 40, 0.5, -30])
def test_truncated_npz_is_refused_cleanly(saved, keep):
    npz_path = checkpoint_paths(saved)[0]
    data = npz_path.read_bytes()
    npz_path.write_bytes(data[:int(keep * len(data)) if isinstance(keep, float) else keep])
    with pytest.raises(CheckpointError, match=r"best\.npz: (unreadable .*truncated or corrupt|"
                                              r"holds pickled data)"):
        load_checkpoint(saved)


def test_flipped_bit_is_detected(saved):
    npz_path = checkpoint_paths(saved)[0]
    data = bytearray(npz_path.read_bytes())
    data[len(data) // 3] ^= 0x10
    npz_path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"best\.npz: "):
        load_checkpoint(saved)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["param/W"].update(shape=[3, 2]),
     r"best\.npz: array 'param/W' has shape \(2, 3\); its manifest best\.json expects \(3, 2\)"),
    (lambda m: m["param/b"].update(dtype="float64"),
     r"best\.npz: array 'param/b' has dtype float32; its manifest best\.json expects float64"),
    (lambda m: m.update({"param/c": {"shape": [1], "dtype": "int8"}}),
     r"best\.npz: array 'param/c' is missing; its manifest best\.json lists it"),
    (lambda m: m.pop("param/b"),
     r"best\.npz: unexpected array 'param/b'; its manifest best\.json does not list it"),
    (lambda m: m["param/b"].update(dtype="no-such-type"), r"best\.json: malformed array manifest"),
])
def test_manifest_mismatch_names_the_first_difference(saved, edit, message):
    json_path = checkpoint_paths(saved)[1]
    header = json.loads(json_path.read_text())
    edit(header["arrays"])
    json_path.write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved)


@pytest.mark.parametrize("edit, message", [
    (lambda h: h.pop("format"), r"best\.json: not an rnnlab checkpoint"),
    (lambda h: h.update(version=99), r"best\.json: checkpoint version 99; expected 1"),
    (lambda h: h.update(meta=[]), r"best\.json: field 'meta' is missing or not a dict"),
])
def test_foreign_or_future_metadata_is_refused(saved, edit, message):
    json_path = checkpoint_paths(saved)[1]
    header = json.loads(json_path.read_text())
    edit(header)
    json_path.write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved)


def _failing_replace(real_replace, target):
    def replace(src, dst):
        if pathlib.Path(dst).name == target:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)
    return replace


@pytest.mark.parametrize("target, survivor", [
    ("best.next.npz", "old"),  # the arrays could not be written: the old checkpoint stays
    ("best.json", "old"),      # the commit point failed: the old json names the old arrays
    ("best.npz", "new"),       # committed, the final rename failed: best.next.npz is loaded
])
def test_a_failed_save_leaves_a_whole_checkpoint_old_or_new(saved, monkeypatch, target,
                                                            survivor):
    old_arrays, old_meta = load_checkpoint(saved)
    new_arrays = {name: array + 1 for name, array in old_arrays.items()}
    monkeypatch.setattr(files.os, "replace", _failing_replace(files.os.replace, target))
    with pytest.raises(errors.WriteError, match=target.replace(".", r"\.") +
                       r": cannot write \(No space left on device\)") as info:
        save_checkpoint(saved, new_arrays, {"step": 6})
    assert isinstance(info.value, OSError) and info.value.errno == 28
    monkeypatch.undo()
    arrays, meta = load_checkpoint(saved)
    expected_arrays, expected_meta = ((old_arrays, old_meta) if survivor == "old"
                                      else (new_arrays, {"step": 6}))
    assert meta == expected_meta
    assert all(arrays[k].tobytes() == expected_arrays[k].tobytes() for k in arrays)
    assert load_meta(saved) == expected_meta
    save_checkpoint(saved, old_arrays, old_meta)  # the next save tidies up
    assert sorted(p.name for p in saved.parent.iterdir()) == ["best.json", "best.npz"]


def test_a_stale_next_file_never_replaces_the_committed_arrays(saved):
    npz_path, json_path = checkpoint_paths(saved)
    arrays, meta = load_checkpoint(saved)
    # A save killed before its commit point left other arrays in best.next.npz.
    np.savez(npz_path.with_name("best.next.npz"), **{k: v + 1 for k, v in arrays.items()})
    again, _ = load_checkpoint(saved)
    assert all(again[k].tobytes() == arrays[k].tobytes() for k in arrays)
    # Mixed-up files with no matching arrays anywhere are refused, not loaded.
    np.savez(npz_path, **{k: v * 2 for k, v in arrays.items()})
    with pytest.raises(CheckpointError, match=r"best\.npz: content differs from the checksum in "
                                              r"best\.json"):
        load_checkpoint(saved)


def test_expected_names_shapes_and_dtypes_are_checked(saved):
    ok = {"param/W": ((2, 3), "float32"), "param/b": ((None,), np.float32)}
    assert load_checkpoint(saved, expected=ok)[1] == {"step": 5}
    assert set(load_checkpoint(saved, {"param/W": ((2, 3), None),
                                       "param/b": ([3], None)})[0]) == {"param/W", "param/b"}
    cases = [
        ({**ok, "param/W": ((2, 4), "float32")},
         r"array 'param/W' has shape \(2, 3\); the model expects \(2, 4\)"),
        ({**ok, "param/W": ((6,), "float32")},
         r"array 'param/W' has shape \(2, 3\); the model expects \(6,\)"),
        ({**ok, "param/b": ((3,), "float64")},
         r"array 'param/b' has dtype float32; the model expects float64"),
        ({**ok, "param/c": ((1,), "float32")}, r"array 'param/c' is missing; the model lists it"),
        ({"param/W": ok["param/W"]}, r"unexpected array 'param/b'; the model does not list it"),
    ]
    for expected, message in cases:
        with pytest.raises(CheckpointError, match=r"best\.npz: " + message):
            load_checkpoint(saved, expected=expected)
    with pytest.raises(TypeError, match=r"expected: .*expected a dict of name -> \(shape, dtype\)"):
        load_checkpoint(saved, expected={"param/W": 3})


# ------------------------------------------------------------- checked before decompressing

def _forge(saved, members, compression=0):
    """Replace the npz with ``members`` (name -> bytes) and make the json's checksum match it,
    so that only the checks made before decompressing can refuse it."""
    import hashlib
    import zipfile
    npz_path, json_path = checkpoint_paths(saved)
    with zipfile.ZipFile(npz_path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    header = json.loads(json_path.read_text())
    header["sha256"] = hashlib.sha256(npz_path.read_bytes()).hexdigest()
    json_path.write_text(json.dumps(header))
    return npz_path


def _npy(array):
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_a_member_that_is_not_npy_is_named(saved):
    _forge(saved, {"param/W.npy": _npy(np.zeros((2, 3), "float32")), "notes.txt": b"hello"})
    with pytest.raises(CheckpointError, match=r"best\.npz: member 'notes\.txt' is not an \.npy "
                                              r"array"):
        load_checkpoint(saved)


def test_a_zip_bomb_is_refused_before_it_is_inflated(saved, monkeypatch):
    import zipfile
    # The header says (3,) float32, the member inflates to 64 MiB: refused from its stored
    # size, and nothing is ever decompressed (read_array would be the first to inflate data).
    header = _npy(np.zeros(3, "float32"))[:-12]
    bomb = header + bytes(64 << 20)
    npz_path = _forge(saved, {"param/W.npy": _npy(np.zeros((2, 3), "float32")),
                              "param/b.npy": bomb}, compression=zipfile.ZIP_DEFLATED)
    assert npz_path.stat().st_size < 1 << 20

    def never(*args, **kwargs):
        raise AssertionError("decompressed before the checks")
    monkeypatch.setattr(np.lib.format, "read_array", never)
    with pytest.raises(CheckpointError, match=r"best\.npz: member 'param/b\.npy' holds 67108"
                                              r"\d+ bytes; its shape and dtype need \d+ "):
        load_checkpoint(saved)


def test_the_checksum_is_checked_before_any_array_is_read(saved, monkeypatch):
    npz_path = checkpoint_paths(saved)[0]
    np.savez(npz_path, **{"param/W": np.ones((2, 3), "float32"),
                          "param/b": np.ones(3, "float32")})

    def never(*args, **kwargs):
        raise AssertionError("read before the checksum")
    monkeypatch.setattr(np.lib.format, "read_array", never)
    with pytest.raises(CheckpointError, match=r"best\.npz: content differs from the checksum"):
        load_checkpoint(saved)
