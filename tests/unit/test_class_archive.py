"""The archive of Spark's classes (dbt.adapters.sparkoss.class_archive, `ecom jvm-archive`),
without a JVM: where it lives, when a JVM gets it, and how it is written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from dbt.adapters.sparkoss import class_archive
from dbt.adapters.sparkoss.class_archive import (
    ENV,
    JAVA_OPTIONS,
    QUIET,
    ArchiveError,
    check_archive,
    configured_archive,
    fingerprint,
    java_binary,
    java_options,
    make_archive,
    with_class_archive,
)

from ecom_analytics.cli import main


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "spark-classes-0123.jsa"
    path.write_bytes(b"archive")
    return path


@pytest.fixture()
def machine(tmp_path: Path) -> tuple[Path, Path]:
    """A fake JDK (bin/java, lib/server/libjvm.so) and a fake Spark (jars/)."""
    jdk = tmp_path / "jdk"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "lib" / "server").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("#!/bin/sh\n")
    (jdk / "lib" / "server" / "libjvm.so").write_bytes(b"jvm 17.0.15")
    spark = tmp_path / "spark"
    (spark / "jars").mkdir(parents=True)
    (spark / "jars" / "spark-core.jar").write_bytes(b"jar")
    return jdk / "bin" / "java", spark


def test_options_map_an_existing_archive_quietly(archive: Path) -> None:
    options = java_options("-XX:+UseParallelGC", archive)
    assert options == f"-XX:+UseParallelGC -XX:SharedArchiveFile={archive} {QUIET}"


def test_options_stay_as_they_are_without_an_archive(tmp_path: Path) -> None:
    assert java_options("-XX:+UseParallelGC", None) == "-XX:+UseParallelGC"
    assert java_options("-XX:+UseParallelGC", tmp_path / "missing.jsa") == "-XX:+UseParallelGC"


def test_options_already_naming_an_archive_are_left_alone(archive: Path) -> None:
    given = "-XX:SharedArchiveFile=/elsewhere.jsa"
    assert java_options(given, archive) == given
    dumping = "-XX:ArchiveClassesAtExit=/tmp/new.jsa"
    assert java_options(dumping, archive) == dumping


def test_an_archive_path_with_spaces_is_quoted_for_spark(tmp_path: Path) -> None:
    folder = tmp_path / "my venv"
    folder.mkdir()
    archive = folder / "a.jsa"
    archive.write_bytes(b"archive")
    assert f'"-XX:SharedArchiveFile={archive}"' in java_options("", archive)


def test_settings_get_the_archive_without_changing_the_given_ones(archive: Path) -> None:
    given = {"spark.master": "local[*]"}
    updated = with_class_archive(given, archive)
    assert given == {"spark.master": "local[*]"}
    assert updated["spark.master"] == "local[*]"
    assert f"-XX:SharedArchiveFile={archive}" in updated[JAVA_OPTIONS]
    # applying it twice changes nothing (the adapter applies it at each connection's open)
    assert with_class_archive(updated, archive) == updated


def test_settings_naming_an_archive_need_no_lookup(
    monkeypatch: pytest.MonkeyPatch, archive: Path
) -> None:
    def no_lookup() -> Path:
        raise AssertionError("the archive was looked up again")

    monkeypatch.setattr(class_archive, "configured_archive", no_lookup)
    given = {JAVA_OPTIONS: f"-XX:+UseParallelGC -XX:SharedArchiveFile={archive}"}
    assert with_class_archive(given) == given


def test_the_environment_turns_the_archive_off_or_moves_it(
    monkeypatch: pytest.MonkeyPatch, archive: Path
) -> None:
    assert configured_archive({ENV: "off"}) is None
    assert configured_archive({ENV: " OFF "}) is None
    assert configured_archive({ENV: str(archive)}) == archive
    monkeypatch.setattr(class_archive, "default_archive", lambda: Path("/default.jsa"))
    assert configured_archive({}) == Path("/default.jsa")


def test_java_is_found_as_spark_finds_it(machine: tuple[Path, Path], tmp_path: Path) -> None:
    java, _spark = machine
    assert java_binary({"JAVA_HOME": str(java.parent.parent)}) == java.resolve()
    assert java_binary({"JAVA_HOME": str(tmp_path / "no-jdk"), "PATH": ""}) is None


def test_the_fingerprint_follows_the_jvm_build_and_the_jars(machine: tuple[Path, Path]) -> None:
    java, spark = machine
    first = fingerprint(java, spark)
    assert first == fingerprint(java, spark)
    assert len(first) == 16

    libjvm = java.parent.parent / "lib" / "server" / "libjvm.so"
    libjvm.write_bytes(b"jvm 17.0.16 update")
    updated_jdk = fingerprint(java, spark)
    assert updated_jdk != first

    (spark / "jars" / "extra.jar").write_bytes(b"jar")
    os.utime(spark / "jars", ns=(1, 1))
    assert fingerprint(java, spark) != updated_jdk


def _fake_child(write: bytes | None) -> object:
    """Stands in for the Spark child: writes the archive named in the dump option, if asked."""

    def child(parameters: dict[str, str], mode: str, timeout: float, log: object) -> None:
        assert mode == "--dump"
        option = next(
            part for part in parameters[JAVA_OPTIONS].split() if "ArchiveClassesAtExit" in part
        )
        assert "-XX:+UseParallelGC" in parameters[JAVA_OPTIONS]
        if write is not None:
            Path(option.split("=", 1)[1]).write_bytes(write)

    return child


def test_an_archive_is_renamed_into_place_and_older_ones_go(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    older = folder / "spark-classes-old.jsa"
    older.write_bytes(b"old")
    unrelated = folder / "notes.txt"
    unrelated.write_text("kept")
    monkeypatch.setattr(class_archive, "_spark_child", _fake_child(b"classes"))

    target = folder / "spark-classes-new.jsa"
    assert make_archive(target, {JAVA_OPTIONS: "-XX:+UseParallelGC"}) == target
    assert target.read_bytes() == b"classes"
    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt", target.name]


def test_a_jvm_that_wrote_nothing_leaves_no_archive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(class_archive, "_spark_child", _fake_child(None))
    target = tmp_path / "spark-classes-new.jsa"
    with pytest.raises(ArchiveError, match="without writing"):
        make_archive(target, {JAVA_OPTIONS: "-XX:+UseParallelGC"})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_spark_is_reported_with_its_last_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failed(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            args=[],
            returncode=1,
            stdout="",
            stderr="\nError occurred during initialization of VM\n",
        )

    monkeypatch.setattr(class_archive.subprocess, "run", failed)
    logged: list[str] = []
    target = tmp_path / "spark-classes-new.jsa"
    with pytest.raises(ArchiveError, match="exit status 1"):
        make_archive(target, {}, log=logged.append)
    assert logged == ["  Error occurred during initialization of VM"]
    assert list(tmp_path.iterdir()) == []


def test_checking_a_missing_archive_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no archive at"):
        check_archive(tmp_path / "missing.jsa", {})


def test_command_when_turned_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV, "off")
    assert main(["jvm-archive"]) == 0
    assert "turned off by SPARKOSS_CLASS_ARCHIVE=off" in capsys.readouterr().out
    assert main(["jvm-archive", "--check"]) == 1


def test_command_keeps_an_existing_archive(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], archive: Path
) -> None:
    monkeypatch.setenv(ENV, str(archive))
    monkeypatch.setattr(class_archive, "_spark_child", _fake_child(b"never"))
    assert main(["jvm-archive"]) == 0
    assert f"up to date: {archive}" in capsys.readouterr().out
    assert archive.read_bytes() == b"archive"


def test_command_without_java_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(class_archive, "default_archive", lambda: None)
    assert main(["jvm-archive"]) == 2
    assert "put `java` (17+) on PATH or set JAVA_HOME" in capsys.readouterr().err


def test_command_removes_an_archive_it_could_not_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "spark-classes-new.jsa"
    monkeypatch.setenv(ENV, str(target))
    monkeypatch.setattr(class_archive, "_spark_child", _fake_child(b"classes"))

    def unusable(*args: object, **kwargs: object) -> None:
        raise ArchiveError("Spark ended with exit status 1")

    monkeypatch.setattr(class_archive, "check_archive", unusable)
    assert main(["jvm-archive"]) == 1
    assert "failed: Spark ended with exit status 1" in capsys.readouterr().out
    assert not target.exists()


def test_a_session_connection_starts_its_jvm_from_the_archive(
    monkeypatch: pytest.MonkeyPatch, archive: Path, tmp_path: Path
) -> None:
    from dbt.adapters.contracts.connection import Connection
    from dbt.adapters.sparkoss.connections import SparkossConnectionManager, SparkossCredentials

    monkeypatch.setenv(ENV, str(archive))
    credentials = SparkossCredentials(
        method="session",  # type: ignore[arg-type]
        host="localhost",
        schema="ecom",
        server_side_parameters={
            "spark.sql.warehouse.dir": str(tmp_path / "warehouse"),
            JAVA_OPTIONS: "-XX:+UseParallelGC",
        },
    )
    connection = Connection(type="sparkoss", name="model", credentials=credentials)
    # opening a session connection builds no SparkSession yet: the first statement does
    SparkossConnectionManager.open(connection)
    assert credentials.server_side_parameters[JAVA_OPTIONS] == (
        f"-XX:+UseParallelGC -XX:SharedArchiveFile={archive} {QUIET}"
    )
