"""The archive of Spark's classes that `make setup` makes (`ecom jvm-archive`), on a real JVM:
the embedded Spark starts with it, and a JVM that cannot map an archive is caught by the check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dbt.adapters.sparkoss.class_archive import (
    ENV,
    ArchiveError,
    check_archive,
    configured_archive,
    turned_off,
)

from ecom_analytics.spark_session import local_spark_conf

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def archive() -> Path:
    if turned_off():
        pytest.skip(f"{ENV}=off")
    path = configured_archive()
    assert path is not None and path.is_file(), (
        f"no archive of Spark's classes at {path}: `make setup` makes it (`ecom jvm-archive`)"
    )
    return path


def test_the_embedded_jvm_starts_with_the_archive(spark: Any, archive: Path) -> None:
    option = f"-XX:SharedArchiveFile={archive}"
    runtime = spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert option in list(runtime.getInputArguments())


def test_a_jvm_maps_the_archive_and_refuses_a_foreign_one(archive: Path, tmp_path: Path) -> None:
    parameters = local_spark_conf("ecom_analytics-tests-archive", warehouse=str(tmp_path / "wh"))
    check_archive(archive, parameters, log=lambda line: None)

    foreign = tmp_path / "spark-classes-foreign.jsa"
    foreign.write_bytes(b"not a class-data-sharing archive" * 1024)
    with pytest.raises(ArchiveError, match="exit status"):
        check_archive(foreign, parameters, log=lambda line: None)
