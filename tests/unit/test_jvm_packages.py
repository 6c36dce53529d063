"""The pinned JVM packages: naming, the manifest check, and what a missing cache tells the user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecom_analytics import jvm_packages
from ecom_analytics.jvm_packages import GROUPS, PackagesError


@pytest.mark.parametrize(
    ("file_name", "artifact"),
    [
        ("delta-spark_4.2_2.13-4.4.0.jar", "delta-spark_4.2_2.13"),
        ("scala-library-2.13.17.jar", "scala-library"),
        ("zstd-jni-1.5.7-3.jar", "zstd-jni"),
        ("kafka_2.13-4.2.0.jar", "kafka_2.13"),
        ("log4j-slf4j2-impl-2.25.3.jar", "log4j-slf4j2-impl"),
        ("RoaringBitmap-0.9.25.jar", "RoaringBitmap"),
    ],
)
def test_artifact_names(file_name: str, artifact: str) -> None:
    assert jvm_packages._artifact(file_name) == artifact


def test_connector_and_delta_follow_the_spark_version() -> None:
    import pyspark

    assert pyspark.__version__ == jvm_packages.SPARK_VERSION
    spark = GROUPS["spark"].coordinates
    assert f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}" in spark
    line = ".".join(pyspark.__version__.split(".")[:2])
    assert f"io.delta:delta-spark_{line}_2.13:{jvm_packages.DELTA_VERSION}" in spark


def test_pom_lists_every_coordinate() -> None:
    pom = jvm_packages._pom(GROUPS["kafka"].coordinates)
    for coordinate in GROUPS["kafka"].coordinates:
        group_id, artifact_id, version = coordinate.split(":")
        assert f"<groupId>{group_id}</groupId>" in pom
        assert f"<artifactId>{artifact_id}</artifactId><version>{version}</version>" in pom


def _fake_group(root: Path, coordinates: list[str], jars: dict[str, bytes]) -> None:
    folder = root / "postgresql"
    folder.mkdir(parents=True)
    entries = {}
    for name, content in jars.items():
        (folder / name).write_bytes(content)
        entries[name] = {"size": len(content), "sha256": "x"}
    manifest = {"coordinates": coordinates, "jars": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_resolved_group_lists_its_jars(tmp_path: Path) -> None:
    group = GROUPS["postgresql"]
    _fake_group(tmp_path, list(group.coordinates), {"b.jar": b"12", "a.jar": b"1"})
    assert jvm_packages.is_resolved(group, tmp_path)
    assert jvm_packages.jars("postgresql", tmp_path) == [
        tmp_path / "postgresql" / "a.jar",
        tmp_path / "postgresql" / "b.jar",
    ]


@pytest.mark.parametrize("damage", ["other pins", "jar missing", "jar changed", "no manifest"])
def test_stale_or_damaged_cache_is_not_resolved(tmp_path: Path, damage: str) -> None:
    group = GROUPS["postgresql"]
    pins = ["org.postgresql:postgresql:1.0"] if damage == "other pins" else group.coordinates
    _fake_group(tmp_path, list(pins), {"a.jar": b"1"})
    folder = tmp_path / "postgresql"
    if damage == "jar missing":
        (folder / "a.jar").unlink()
    elif damage == "jar changed":
        (folder / "a.jar").write_bytes(b"longer")
    elif damage == "no manifest":
        (folder / "manifest.json").unlink()
    assert not jvm_packages.is_resolved(group, tmp_path)
    with pytest.raises(PackagesError, match=r"make setup.*ecom jars"):
        jvm_packages.jars("postgresql", tmp_path)


def test_jars_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOM_JARS_DIR", "/opt/jars")
    assert jvm_packages.jars_dir() == Path("/opt/jars")
    monkeypatch.delenv("ECOM_JARS_DIR")
    assert jvm_packages.jars_dir().parts[-3:] == ("share", "ecom_analytics", "jars")


def test_unknown_group_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from ecom_analytics.cli import main

    assert main(["jars", "hadoop"]) == 2
    assert "unknown group 'hadoop'" in capsys.readouterr().err
