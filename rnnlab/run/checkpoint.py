"""Checkpoints: named arrays in ``<stem>.npz`` plus JSON metadata in ``<stem>.json``; no pickle.

:func:`save_checkpoint` writes the arrays (parameters and optimizer state, keyed like
``"param/lstm0.W_in_to_ingate"`` or ``"opt/adam.t"``) in three atomic steps, so that a process
killed at any instant leaves a loadable checkpoint (the previous one or the new one):

1. the arrays go to ``<stem>.next.npz``;
2. ``<stem>.json`` is replaced: the commit point.  It holds the caller's metadata (step, epoch,
   data position, RNG states, learning rate, best validation loss, ...), the manifest of the
   arrays (name -> shape and dtype) and the SHA-256 of the arrays;
3. ``<stem>.next.npz`` is renamed to ``<stem>.npz``.

:func:`load_checkpoint` takes the arrays whose SHA-256 the JSON holds: ``<stem>.npz``, or
``<stem>.next.npz`` after a kill between steps 2 and 3.  A truncated, corrupt or mismatched npz
is detected instead of silently resuming from the wrong state.

:func:`load_checkpoint` checks before it decompresses anything: the member names, shapes and
dtypes (from each ``.npy`` header) against the manifest, each member's stored size against what
its shape needs, and the SHA-256 of the whole npz.  A forged or damaged archive (a zip bomb, a
member that is not an ``.npy``) is refused without inflating it.  It then reads with
``allow_pickle=False`` (a file holding pickled objects is refused, never executed) and,
optionally, checks the names, shapes and dtypes the model expects.
"""

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from rnnlab.errors import CheckpointError
from rnnlab.files import atomic_write_json, atomic_writer, read_json, replace_file

__all__ = ["save_checkpoint", "load_checkpoint", "load_meta", "checkpoint_paths",
           "check_expected"]

FORMAT = "rnnlab-checkpoint"
VERSION = 1
_KINDS = "biufc"  # bool, signed and unsigned ints, floats, complex: what npy stores without pickle


def checkpoint_paths(path_stem):
    """The two files of a checkpoint.

    Parameters
    ----------
    path_stem : str or os.PathLike
        The checkpoint's path without suffix, e.g. ``runs/x/checkpoints/latest``; a trailing
        ``.npz`` or ``.json`` is dropped.

    Returns
    -------
    tuple of pathlib.Path
        ``(npz_path, json_path)``.

    Examples
    --------
    >>> [p.name for p in checkpoint_paths("runs/x/checkpoints/best.npz")]
    ['best.npz', 'best.json']
    """
    stem = Path(path_stem)
    if stem.suffix in (".npz", ".json"):
        stem = stem.with_suffix("")
    return stem.parent / (stem.name + ".npz"), stem.parent / (stem.name + ".json")


def _next_path(npz_path):
    """Where a save puts the arrays before its commit point (see the module docstring)."""
    return npz_path.with_name(npz_path.stem + ".next.npz")


def _jsonable(value, where):
    """Convert numpy scalars/arrays and tuples to JSON types, refusing anything that does not
    round-trip (non-string keys, arbitrary objects)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is a {type(key).__name__}; expected str "
                                f"keys (JSON would turn it into a string)")
            out[key] = _jsonable(item, f"{where}[{key!r}]")
        return out
    raise TypeError(f"{where} = {value!r:.60}: a {type(value).__name__} is not JSON metadata; "
                    f"expected dict, list, str, number, bool, None or a numpy scalar/array")


def _sha256(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise CheckpointError(f"{path}: cannot read the file ({err.strerror})") from None
    return digest.hexdigest()


def _check_arrays(arrays):
    if not isinstance(arrays, dict):
        raise TypeError(f"arrays: got {type(arrays).__name__}; expected a dict of name -> array")
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or "\0" in name:
            raise ValueError(f"arrays: name {name!r}: expected a non-empty string")
        array = np.asarray(value)
        if array.dtype.kind not in _KINDS:
            raise TypeError(f"arrays[{name!r}]: dtype {array.dtype} needs pickle or is not "
                            f"numeric; expected bool, integer, float or complex")
        checked[name] = array
    return checked


def save_checkpoint(path_stem, arrays, meta):
    """Save named arrays and metadata as ``<stem>.npz`` then ``<stem>.json``, both atomically.

    Parameters
    ----------
    path_stem : str or os.PathLike
        Path without suffix, e.g. ``runs/x/checkpoints/latest`` (parent folders are created).
    arrays : dict of str to numpy.ndarray
        Named arrays of any shape (parameter values, optimizer state); numeric or bool dtypes.
    meta : dict
        JSON metadata: step, epoch, data position, RNG states (``Generator.bit_generator.state``:
        its 128-bit integers are kept exactly), lr, best validation loss, ...  numpy scalars and
        arrays become Python numbers and lists, tuples become lists.

    Returns
    -------
    tuple of pathlib.Path
        ``(npz_path, json_path)``.

    Raises
    ------
    TypeError, ValueError
        If an array is not numeric, a name is not a string, or ``meta`` holds something JSON
        cannot represent exactly; nothing is written then.
    rnnlab.errors.WriteError
        If a file cannot be written (disk full, permission denied); the checkpoint on disk is
        then the previous one, or the new one when only the final rename failed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> stem = pathlib.Path(tmp.name) / "saved" / "latest"
    >>> rng = np.random.default_rng(0)
    >>> arrays = {"param/dense.W": rng.standard_normal((3, 2)).astype("float32"),
    ...           "opt/adam.t": np.array(7.0)}
    >>> meta = {"step": 7, "lr": 0.002, "rng": rng.bit_generator.state}
    >>> [p.name for p in save_checkpoint(stem, arrays, meta)]
    ['latest.npz', 'latest.json']
    >>> loaded, meta2 = load_checkpoint(stem)
    >>> loaded["param/dense.W"].dtype, meta2 == meta
    (dtype('float32'), True)
    >>> tmp.cleanup()
    """
    arrays = _check_arrays(arrays)
    if not isinstance(meta, dict):
        raise TypeError(f"meta: got {type(meta).__name__}; expected a dict")
    meta = _jsonable(meta, "meta")
    npz_path, json_path = checkpoint_paths(path_stem)
    next_path = _next_path(npz_path)
    # One .npy member per array, exactly as np.savez lays them out, but written with
    # allow_pickle=False and without np.savez's reserved keyword names ("file", "allow_pickle").
    with atomic_writer(next_path) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, array in arrays.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
    manifest = {name: {"shape": list(array.shape), "dtype": str(array.dtype)}
                for name, array in arrays.items()}
    atomic_write_json(json_path, {"format": FORMAT, "version": VERSION, "npz": npz_path.name,
                                  "sha256": _sha256(next_path), "arrays": manifest, "meta": meta})
    replace_file(next_path, npz_path)
    return npz_path, json_path


def _read_header(json_path):
    header = read_json(json_path, error=CheckpointError)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{json_path}: not an rnnlab checkpoint (no \"format\": "
                              f"\"{FORMAT}\"); expected the .json written by save_checkpoint")
    if header.get("version") != VERSION:
        raise CheckpointError(f"{json_path}: checkpoint version {header.get('version')!r}; "
                              f"expected {VERSION} (written by another rnnlab version)")
    for key, kind in (("arrays", dict), ("meta", dict), ("sha256", str)):
        if not isinstance(header.get(key), kind):
            raise CheckpointError(f"{json_path}: field {key!r} is missing or not a "
                                  f"{kind.__name__}; expected the .json written by "
                                  f"save_checkpoint")
    return header


def load_meta(path_stem):
    """Read only a checkpoint's metadata (no arrays): cheap, for reports and commands.

    Parameters
    ----------
    path_stem : str or os.PathLike
        As for :func:`load_checkpoint`.

    Returns
    -------
    dict
        The ``meta`` given to :func:`save_checkpoint`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = save_checkpoint(pathlib.Path(tmp.name) / "best", {}, {"step": 300})
    >>> load_meta(pathlib.Path(tmp.name) / "best")
    {'step': 300}
    >>> tmp.cleanup()
    """
    return _read_header(checkpoint_paths(path_stem)[1])["meta"]


def _members(npz_path, manifest, json_name):
    """Open ``npz_path`` and check its members against the manifest from their .npy headers
    alone (names, dtypes, shapes, stored sizes): nothing is decompressed yet.  Returns the
    open ZipFile and ``{name: ZipInfo}``."""
    if not npz_path.is_file():
        raise CheckpointError(f"{npz_path}: checkpoint arrays not found; expected the .npz "
                              f"written with its .json")
    with open(npz_path, "rb") as handle:
        if handle.read(6) == b"\x93NUMPY":
            raise CheckpointError(f"{npz_path}: holds a single array, not named arrays; "
                                  f"expected an .npz archive")
    archive = zipfile.ZipFile(npz_path)
    try:
        members = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise CheckpointError(f"{npz_path}: member {info.filename!r} is not an .npy "
                                      f"array; expected one <name>.npy per array")
            members[info.filename[:-4]] = info
        found = {}
        for name, info in members.items():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member)
                offset = member.tell()
            if dtype.hasobject:
                raise CheckpointError(f"{npz_path}: holds pickled data (an object array), "
                                      f"which rnnlab never loads; expected numeric arrays only")
            found[name] = (shape, dtype, offset)
        _compare({name: _Header(shape, dtype) for name, (shape, dtype, _) in found.items()},
                 manifest, npz_path, f"its manifest {json_name}")
        for name, (shape, dtype, offset) in found.items():
            size = offset + int(np.prod(shape, dtype=object)) * dtype.itemsize
            if members[name].file_size != size:
                raise CheckpointError(f"{npz_path}: member {name + '.npy'!r} holds "
                                      f"{members[name].file_size} bytes; its shape and dtype "
                                      f"need {size} (the file is truncated or corrupt)")
        return archive, members
    except BaseException:
        archive.close()
        raise


class _Header:
    """What :func:`_compare` needs of an array (ndim, shape, dtype), from an .npy header."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.ndim = tuple(shape), dtype, len(shape)


def _read_arrays(archive, members):
    """Decompress the checked members: each read stops at the size the manifest allows."""
    with archive:
        arrays = {}
        for name, info in members.items():
            with archive.open(info) as member:
                arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
        return arrays


def _unreadable(npz_path, err):
    if isinstance(err, ValueError) and "pickle" in str(err):
        return CheckpointError(f"{npz_path}: holds pickled data (an object array, or it is "
                               f"not an .npz file), which rnnlab never loads; expected "
                               f"numeric arrays only")
    return CheckpointError(f"{npz_path}: unreadable ({type(err).__name__}: {err}); the file "
                           f"is truncated or corrupt")


def _shape_text(shape):
    return "(" + ", ".join("*" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def check_expected(arrays, expected, path_stem):
    """Check loaded arrays against the names, shapes and dtypes a model expects.

    :func:`load_checkpoint` does this when given ``expected``; a command calls it itself when it
    loads (and so checks) the file before building the model.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        From :func:`load_checkpoint`.
    expected : dict
        ``{name: (shape, dtype)}``; None in a shape (or as the dtype) matches anything.  The
        arrays must have exactly these names.
    path_stem : str or os.PathLike
        The checkpoint, for the message.

    Raises
    ------
    CheckpointError
        Naming the npz file and the first missing, unexpected or mismatched array (name, shape
        or dtype, in that order).
    TypeError
        If ``expected`` is not a dict of name -> (shape, dtype).

    Examples
    --------
    >>> arrays = {"param/W": np.zeros((4, 8), "float32")}
    >>> check_expected(arrays, {"param/W": ((4, None), "float32")}, "runs/x/checkpoints/best")
    >>> check_expected(arrays, {"param/W": ((4, 8), "float64")}, "runs/x/checkpoints/best")
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: runs/x/checkpoints/best.npz: array 'param/W' has dtype \
float32; the model expects float64
    """
    try:
        wanted = {name: (tuple(shape), dtype) for name, (shape, dtype) in expected.items()}
    except (TypeError, ValueError, AttributeError):
        raise TypeError(f"expected: {expected!r:.80}: expected a dict of name -> "
                        f"(shape, dtype)") from None
    _compare(arrays, wanted, checkpoint_paths(path_stem)[0], "the model")


def _compare(arrays, wanted, where, subject):
    """Raise CheckpointError at the first difference between ``arrays`` and ``wanted``
    (name -> (shape, dtype); None in a shape or as the dtype matches anything)."""
    for name, (shape, dtype) in wanted.items():
        if name not in arrays:
            raise CheckpointError(f"{where}: array {name!r} is missing; {subject} lists it")
        array = arrays[name]
        shape = tuple(shape)
        if len(shape) != array.ndim or any(w is not None and w != d
                                           for w, d in zip(shape, array.shape)):
            raise CheckpointError(f"{where}: array {name!r} has shape {_shape_text(array.shape)}"
                                  f"; {subject} expects {_shape_text(shape)}")
        if dtype is not None and np.dtype(dtype) != array.dtype:
            raise CheckpointError(f"{where}: array {name!r} has dtype {array.dtype}; {subject} "
                                  f"expects {np.dtype(dtype)}")
    extra = [name for name in arrays if name not in wanted]
    if extra:
        raise CheckpointError(f"{where}: unexpected array {extra[0]!r}; {subject} does not "
                              f"list it")


def load_checkpoint(path_stem, expected=None):
    """Load and check a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path_stem : str or os.PathLike
        Path without suffix (a trailing ``.npz``/``.json`` is dropped).
    expected : dict, optional
        ``{name: (shape, dtype)}`` the model needs, e.g. from its parameters; None in a shape (or
        as the dtype) matches anything.  The checkpoint must hold exactly these names.

    Returns
    -------
    tuple
        ``(arrays, meta)``: ``{name: numpy.ndarray}`` bitwise equal to what was saved, and the
        metadata dict.

    Raises
    ------
    CheckpointError
        If a file is missing, the npz is truncated, corrupt, holds pickled objects or differs
        from the manifest in its JSON (names, shapes, dtypes, checksum), or an array differs
        from ``expected`` (see :func:`check_expected`); the message names the file and the
        first mismatch.  Nothing is written, ever.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> stem = pathlib.Path(tmp.name) / "latest"
    >>> _ = save_checkpoint(stem, {"param/W": np.zeros((4, 8), "float32")}, {"step": 1})
    >>> arrays, meta = load_checkpoint(stem, {"param/W": ((4, None), "float32")})
    >>> arrays["param/W"].shape, meta["step"]
    ((4, 8), 1)
    >>> load_checkpoint(stem, {"param/W": ((4, 16), "float32")})
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: ...: array 'param/W' has shape (4, 8); the model expects (4, 16)
    >>> tmp.cleanup()
    """
    npz_path, json_path = checkpoint_paths(path_stem)
    if not json_path.is_file():
        raise CheckpointError(f"{json_path}: checkpoint metadata not found; expected the .json "
                              f"written by save_checkpoint")
    header = _read_header(json_path)
    next_path = _next_path(npz_path)
    digest = _sha256(npz_path) if npz_path.is_file() else None
    if (digest != header["sha256"] and next_path.is_file()
            and _sha256(next_path) == header["sha256"]):
        # A save killed after its commit point, before the final rename: the json describes
        # the arrays in <stem>.next.npz.
        npz_path, digest = next_path, header["sha256"]
    try:
        manifest = {name: (tuple(entry["shape"]), np.dtype(entry["dtype"]))
                    for name, entry in header["arrays"].items()}
    except (TypeError, KeyError, ValueError):
        raise CheckpointError(f"{json_path}: malformed array manifest; expected name -> "
                              f"{{shape, dtype}}") from None
    try:
        archive, members = _members(npz_path, manifest, json_path.name)
        if digest != header["sha256"]:
            archive.close()
            raise CheckpointError(f"{npz_path}: content differs from the checksum in "
                                  f"{json_path.name} (an interrupted save or mixed-up files); "
                                  f"expected the npz saved with that json")
        arrays = _read_arrays(archive, members)
    except CheckpointError:
        raise
    except Exception as err:  # zipfile, zlib, EOF, numpy header and OS errors: an unusable file
        raise _unreadable(npz_path, err) from None
    if expected is not None:
        check_expected(arrays, expected, npz_path)
    return arrays, header["meta"]
