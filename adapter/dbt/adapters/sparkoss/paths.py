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


def local_path_missing(path: str) -> bool:
    """True when `path` is local (plain or `file:`) and does not exist; other URIs are Spark's."""
    if _URI.match(path) and not path.startswith("file:"):
        return False
    return not os.path.exists(re.sub(r"^file:(//)?", "", path))
