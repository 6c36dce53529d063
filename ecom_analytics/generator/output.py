"""Where the generated files go: overwrite safety, Parquet and log writing, `_manifest.json`.

A directory is ours when its `_manifest.json` names this generator. We write only into a
directory that is missing, empty (hidden files aside) or ours, and in one that is ours we remove
only what a previous run wrote: the `user_visit_action/` and `user_info/` folders of the raw dir,
the `clicks-NNNNN.log` files its manifest lists in the ad-click dir. Anything else there may be
someone's real data, so we refuse instead. The manifest is written first with status
`in_progress` (so an interrupted run is still recognised as ours) and last with `complete`.

Parquet files are zstd-compressed with pyarrow's fixed defaults and carry no timestamps, so equal
tables give byte-identical files. Spark ignores files starting with `_`, so the manifests never
show up as data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ecom_analytics.generator import GENERATOR_NAME

MANIFEST = "_manifest.json"
RAW_DATASETS = ("user_visit_action", "user_info")
CLICK_FILE = re.compile(r"clicks-\d{5}\.log")


class ForeignDataError(Exception):
    """A target directory holds files this generator did not write."""


def click_file_name(index: int) -> str:
    """Name of the `index`-th ad-click log file."""
    return f"clicks-{index:05d}.log"


def read_own_manifest(directory: Path) -> dict[str, Any] | None:
    """The generator manifest of `directory`, None if the directory is missing or empty.

    Raises ForeignDataError when the directory holds anything without our manifest.
    """
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise ForeignDataError(f"{directory} exists and is not a directory; choose another path")
    if not any(not entry.name.startswith(".") for entry in directory.iterdir()):
        return None
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR_NAME:
        raise ForeignDataError(
            f"{directory} already holds files that 'ecom generate' did not write "
            f"(no {MANIFEST} of ours); it may be real data, so choose an empty or new directory"
        )
    return manifest


def clear_raw_dir(directory: Path) -> None:
    """Remove the datasets a previous run wrote into the raw dir."""
    for dataset in RAW_DATASETS:
        shutil.rmtree(directory / dataset, ignore_errors=True)


def clear_ad_click_dir(directory: Path, manifest: dict[str, Any] | None) -> None:
    """Remove the click log files a previous run listed in its manifest."""
    listed = manifest.get("ad_clicks", {}).get("files", {}) if manifest else {}
    for name in listed:
        if CLICK_FILE.fullmatch(name):
            (directory / name).unlink(missing_ok=True)


def write_manifest(directory: Path, body: dict[str, Any]) -> None:
    """Write `_manifest.json` atomically (a reader sees the old or the new one, never half)."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, directory / MANIFEST)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` as one deterministic Parquet file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def write_click_files(directory: Path, lines: pa.Array, files: int) -> dict[str, int]:
    """Split `lines` (in order) over `files` log files; returns lines written per file name."""
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    bounds = [len(lines) * index // files for index in range(files + 1)]
    for index in range(files):
        chunk = lines.slice(bounds[index], bounds[index + 1] - bounds[index])
        name = click_file_name(index)
        write_log_file(directory / name, chunk)
        written[name] = len(chunk)
    return written


_last_mtime_ns = 0


def write_log_file(path: Path, lines: pa.Array) -> None:
    """Write `lines`, one per line, so that a streaming reader of the folder never sees a partial
    file (written under a hidden name, then renamed) and sees files in the order written (each
    modification time is at least 1 ms after the previous file's)."""
    global _last_mtime_ns
    text = "\n".join(lines.to_pylist()) + "\n" if len(lines) else ""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(text.encode("utf-8"))
    _last_mtime_ns = max(time.time_ns(), _last_mtime_ns + 1_000_000)
    os.utime(temporary, ns=(_last_mtime_ns, _last_mtime_ns))
    os.replace(temporary, path)
