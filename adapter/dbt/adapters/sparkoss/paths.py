"""Storage paths as the metastore should record them."""

from __future__ import annotations

import os
import re

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def qualify_path(path: str, root: str) -> str:
    """URIs (`s3a://...`, `hdfs://...`, `file:/...`) unchanged; a local path made absolute.

    A relative local path is taken from `root` (the dbt project), so a view or table pointing
    at it works from any working directory and from a Thrift server on the same host.
    """
    if _URI.match(path):
        return path
    return os.path.abspath(os.path.join(root, os.path.expanduser(path)))


def local_path(path: str) -> str | None:
    """The file-system path of a local `path` (plain or `file:`); None for other URIs."""
    if _URI.match(path) and not path.startswith("file:"):
        return None
    return re.sub(r"^file:(//)?", "", path)


def local_path_missing(path: str) -> bool:
    """True when `path` is local (plain or `file:`) and does not exist; other URIs are Spark's."""
    local = local_path(path)
    return local is not None and not os.path.exists(local)
