"""What Spark would trip over in a local raw Parquet folder, found before Spark reads it.

Spark fails on such folders deep inside a query, after pages of Java trace and often without
naming the file (a `README.txt`, an empty folder, a truncated file, a column of another type).
These checks read only directory listings, the first and last bytes of each file and, where
pyarrow is installed, the Parquet footers, and say in one line what is wrong and where. A few
bad files among many are skipped instead (the daily run goes on; the caller records them): the
view then reads a mirror of links to the good files.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from dbt.adapters.sparkoss.paths import local_path

_MAGIC = b"PAR1"
# Spark SQL type names of the Parquet types a raw dataset's columns may have.
_SPARK_TYPES = {
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "float": "float",
    "double": "double",
    "bool": "boolean",
    "string": "string",
    "large_string": "string",
    "date32[day]": "date",
}
_WHOLE = {"bigint", "int", "smallint", "tinyint"}


@dataclass(frozen=True)
class BadFile:
    path: Path
    reason: str


def data_files(folder: Path) -> Iterator[Path]:
    """The files Spark reads under `folder`: names starting with `_` or `.` are skipped, as
    Spark skips them (`_SUCCESS`, `.crc` files, `_temporary/`); linked folders are followed,
    as Spark follows them."""
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(name for name in dirs if not name.startswith(("_", ".")))
        for name in sorted(files):
            if not name.startswith(("_", ".")):
                yield Path(root) / name


def _type_name(arrow_type: object) -> str:
    text = str(arrow_type)
    return _SPARK_TYPES.get(text, "timestamp" if text.startswith("timestamp") else text)


def _kind(type_name: str) -> str:
    """Types Spark reads one as the other count as one kind (whole numbers, fractions)."""
    if type_name in _WHOLE:
        return "whole number"
    return "fraction" if type_name in ("float", "double") else type_name


def file_columns(path: Path) -> dict[str, str] | str:
    """The Spark types of a Parquet file's columns (lower-case names), or why Spark cannot read
    the file at all; {} without pyarrow (Spark then reports column types itself)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(max(size - 4, 0))
        tail = handle.read(4)
    if head != _MAGIC:
        return "not a Parquet file"
    if size < 12 or tail != _MAGIC:
        return "truncated Parquet file (no footer)"
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return {}
    try:
        schema = pq.read_schema(path)
    except Exception as error:
        return f"unreadable Parquet footer ({str(error).splitlines()[0]})"
    return {field.name.lower(): _type_name(field.type) for field in schema}


def _dataset_types(columns: list[dict[str, str]], declared: Mapping[str, str]) -> dict[str, str]:
    """Per documented column, the type most files hold (the documented one on a tie)."""
    chosen: dict[str, str] = {}
    for name, documented in declared.items():
        seen = Counter(found[name.lower()] for found in columns if name.lower() in found)
        if not seen:
            continue
        kinds: Counter[str] = Counter()
        for type_name, count in seen.items():
            kinds[_kind(type_name)] += count
        best = max(kinds.values())
        winners = [kind for kind, count in kinds.items() if count == best]
        documented_kind = _kind(documented.lower())
        kind = documented_kind if documented_kind in winners else min(winners)
        chosen[name] = max(
            (type_name for type_name in seen if _kind(type_name) == kind), key=seen.__getitem__
        )
    return chosen


def bad_files(folder: Path, declared: Mapping[str, str]) -> tuple[int, list[BadFile]]:
    """How many data files `folder` holds, and those Spark could not read beside the others:
    not Parquet, truncated, or a documented column of another kind than most files give it (a
    dataset exported with every column as text is fine; one text file among numbers is not)."""
    count = 0
    found: list[BadFile] = []
    readable: list[tuple[Path, dict[str, str]]] = []
    for path in data_files(folder):
        count += 1
        columns = file_columns(path)
        if isinstance(columns, str):
            found.append(BadFile(path, columns))
        else:
            readable.append((path, columns))
    types = _dataset_types([columns for _, columns in readable], declared)
    for path, columns in readable:
        for name, expected in types.items():
            actual = columns.get(name.lower())
            if actual is not None and _kind(actual) != _kind(expected):
                found.append(BadFile(path, f"column {name} is {actual}, expected {expected}"))
                break
    return count, sorted(found, key=lambda bad: str(bad.path))


@dataclass(frozen=True)
class RawCheck:
    """What to do with one raw dataset: the folder its view reads, the files skipped, or the
    one line that stops the run."""

    read_from: str
    files: int = 0
    skipped: tuple[BadFile, ...] = ()
    problem: str | None = None

    def skipped_line(self, dataset: str) -> str:
        return (
            f"Raw dataset '{dataset}': skipping {len(self.skipped)} of {self.files} files that"
            f" cannot be read as its Parquet columns: {_listed(list(self.skipped))}."
        )


def _listed(found: list[BadFile]) -> str:
    shown = "; ".join(f"{bad.path} ({bad.reason})" for bad in found[:5])
    return shown + (f"; and {len(found) - 5} more" if len(found) > 5 else "")


def mirror_good_files(folder: Path, mirror: Path, skipped: set[Path]) -> None:
    """`mirror` made a tree of symbolic links to the data files of `folder` but `skipped`, in
    the same sub-folders (so Spark discovers the same `date=...` partitions)."""
    shutil.rmtree(mirror, ignore_errors=True)
    for path in data_files(folder):
        if path not in skipped:
            link = mirror / path.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)


def check_raw_dataset(
    dataset: str,
    location: str,
    declared: Mapping[str, str],
    max_bad_share: float,
    mirror: Path,
) -> RawCheck:
    """Check the local raw folder `location` before Spark reads it.

    No data file, or more bad files than `max_bad_share` of them: a `problem` line. Fewer: the
    view reads `mirror`, links to the good files only, and the bad ones are `skipped` (the
    caller records them). URIs and missing folders are left to Spark.
    """
    shutil.rmtree(mirror, ignore_errors=True)
    local = local_path(location)
    if local is None or not Path(local).is_dir():
        return RawCheck(read_from=location)
    folder = Path(local)
    count, found = bad_files(folder, declared)
    if count == 0:
        return RawCheck(
            read_from=location,
            problem=(
                f"Raw dataset '{dataset}' at {folder} holds no data files (names starting with _"
                " or . do not count). Generate demo data with `ecom generate`, or put the"
                " dataset's Parquet files there (README, Use your own data)."
            ),
        )
    if not found:
        return RawCheck(read_from=location, files=count)
    if len(found) == count or len(found) > max_bad_share * count:
        return RawCheck(
            read_from=location,
            files=count,
            problem=(
                f"Raw dataset '{dataset}': {len(found)} of {count} files cannot be read as its"
                f" Parquet columns, more than max_bad_file_share ({max_bad_share:g}) of them:"
                f" {_listed(found)}. Fix or move them out of {folder} and run again."
            ),
        )
    mirror_good_files(folder, mirror, {bad.path for bad in found})
    return RawCheck(read_from=str(mirror), files=count, skipped=tuple(found))
