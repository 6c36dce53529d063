"""Both resolvers fetch the same pinned jars, checksummed, into a cache that runs then use.

Needs Maven Central (as `make setup` does); uses the smallest group.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecom_analytics import jvm_packages

pytestmark = pytest.mark.skipif(shutil.which("mvn") is None, reason="needs mvn")


def _manifest(root: Path) -> dict[str, dict[str, object]]:
    return json.loads((root / "postgresql" / "manifest.json").read_text())["jars"]


def test_maven_and_spark_resolve_the_same_jars(tmp_path: Path) -> None:
    lines: list[str] = []
    for via in ("maven", "spark"):
        jvm_packages.resolve(["postgresql"], via=via, root=tmp_path / via, log=lines.append)
    by_maven, by_spark = _manifest(tmp_path / "maven"), _manifest(tmp_path / "spark")
    assert by_maven == by_spark
    assert any(name.startswith("postgresql-") for name in by_maven)
    assert any("postgresql: resolving org.postgresql:postgresql:" in line for line in lines)
    # a second call finds the cache complete and fetches nothing
    lines.clear()
    jvm_packages.resolve(["postgresql"], root=tmp_path / "maven", log=lines.append)
    assert lines == [f"postgresql: up to date in {tmp_path / 'maven' / 'postgresql'}"]
