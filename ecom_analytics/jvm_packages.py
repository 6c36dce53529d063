"""The JVM packages the project adds to pyspark, pinned here and nowhere else.

Delta Lake and Spark's Kafka connector (on every Spark the project starts), Apache Kafka's broker
(`ecom kafka`) and the PostgreSQL JDBC driver (a metastore service backed by PostgreSQL) come from
Maven Central. `resolve` fetches them once, at setup, into `jars_dir()` with their checksums
checked by the resolver: Maven (`mvn -C`, strict checksums) where it is installed, otherwise
Spark's own package resolution (Ivy, which checks the repository's SHA-1 files). Runs, tests and
CI then work from that folder, never from the network.

A group's folder holds its jars and `manifest.json` (the coordinates it was resolved for and each
jar's SHA-256); a folder whose manifest names other coordinates is resolved again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

SPARK_VERSION = "4.2.0"
"""The Spark release the project runs on: the pyspark pin of pyproject.toml and the connector's."""
DELTA_VERSION = "4.4.0"
KAFKA_VERSION = "4.2.0"
POSTGRESQL_JDBC_VERSION = "42.7.8"


@dataclass(frozen=True)
class Group:
    """Jars resolved together into one folder."""

    name: str
    coordinates: tuple[str, ...]
    what: str
    on_spark: bool
    """True: loaded by Spark next to pyspark's own jars, so artifacts pyspark ships are left out."""


GROUPS = {
    group.name: group
    for group in (
        Group(
            "spark",
            (
                f"io.delta:delta-spark_{SPARK_VERSION.rsplit('.', 1)[0]}_2.13:{DELTA_VERSION}",
                f"org.apache.spark:spark-sql-kafka-0-10_2.13:{SPARK_VERSION}",
            ),
            "Delta Lake and the Kafka connector, for every Spark the project starts",
            on_spark=True,
        ),
        Group(
            "kafka",
            (
                f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}",
                # the broker logs through log4j2 (Kafka's distribution ships this binding too)
                "org.apache.logging.log4j:log4j-slf4j-impl:2.25.3",
            ),
            "Apache Kafka's broker, for `ecom kafka`",
            on_spark=False,
        ),
        Group(
            "postgresql",
            (f"org.postgresql:postgresql:{POSTGRESQL_JDBC_VERSION}",),
            "the PostgreSQL JDBC driver, for a metastore service on PostgreSQL",
            on_spark=False,
        ),
    )
}
MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # tasks that rebuild a table's state from its log (default 50, each generating code for the
    # log's wide schema): the stream's tables have small logs
    "spark.databricks.delta.snapshotPartitions": "2",
}
"""Settings that make a Spark session read and write Delta tables (with `spark_jars()`)."""


class PackagesError(RuntimeError):
    """Packages are missing or cannot be resolved; the message says what to do."""


def jars_dir() -> Path:
    """`$ECOM_JARS_DIR`, default `share/ecom_analytics/jars` in the virtual environment."""
    configured = os.environ.get("ECOM_JARS_DIR")
    return Path(configured) if configured else Path(sys.prefix, "share", "ecom_analytics", "jars")


def group_dir(name: str, root: Path | None = None) -> Path:
    return (root or jars_dir()) / name


def _manifest(folder: Path) -> dict[str, object] | None:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_resolved(group: Group, root: Path | None = None) -> bool:
    """True when the group's folder holds the jars of its pinned coordinates, unchanged."""
    folder = group_dir(group.name, root)
    manifest = _manifest(folder)
    if not manifest or manifest.get("coordinates") != list(group.coordinates):
        return False
    jars = manifest.get("jars")
    if not isinstance(jars, dict) or not jars:
        return False
    return all(
        (folder / name).is_file() and (folder / name).stat().st_size == entry["size"]
        for name, entry in jars.items()
    )


def jars(name: str, root: Path | None = None) -> list[Path]:
    """The resolved jars of a group; PackagesError when setup has not fetched them."""
    group = GROUPS[name]
    if not is_resolved(group, root):
        raise PackagesError(
            f"the JVM packages for {group.what} are not in {group_dir(name, root)}: run "
            "`make setup` (or `.venv/bin/ecom jars`) once, with access to Maven Central"
        )
    manifest = _manifest(group_dir(name, root)) or {}
    return [group_dir(name, root) / jar for jar in sorted(manifest["jars"])]  # type: ignore[index]


def spark_jars(root: Path | None = None) -> str:
    """`spark.jars`: the Delta and Kafka connector jars, comma-separated."""
    return ",".join(str(path) for path in jars("spark", root))


def spark_conf(root: Path | None = None) -> dict[str, str]:
    """What a Spark session needs for Delta tables and the Kafka source."""
    return {"spark.jars": spark_jars(root), **DELTA_CONF}


def _pyspark_artifacts() -> set[str]:
    """Artifact names (without version) of the jars pyspark ships."""
    import pyspark

    folder = Path(pyspark.__file__).parent / "jars"
    return {_artifact(path.name) for path in folder.glob("*.jar")}


def _artifact(file_name: str) -> str:
    """`delta-storage-4.4.0.jar` -> `delta-storage`: the name up to the first `-<digit>`."""
    stem = file_name.removesuffix(".jar")
    parts = stem.split("-")
    for index, part in enumerate(parts[1:], start=1):
        if part[:1].isdigit():
            return "-".join(parts[:index])
    return stem


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pom(coordinates: Iterable[str]) -> str:
    dependencies = []
    for coordinate in coordinates:
        group_id, artifact_id, version = coordinate.split(":")
        dependencies.append(
            f"<dependency><groupId>{group_id}</groupId><artifactId>{artifact_id}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>ecom-analytics</groupId><artifactId>jvm-packages</artifactId>"
        "<version>1</version><dependencies>" + "".join(dependencies) + "</dependencies></project>"
    )


def _run(command: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise PackagesError(f"{what} failed (exit {result.returncode}):\n{tail}")


def _with_maven(group: Group, work: Path) -> Path:
    """The group's jars (dependencies of runtime scope) resolved by Maven, checksums enforced."""
    (work / "pom.xml").write_text(_pom(group.coordinates), encoding="utf-8")
    out = work / "jars"
    _run(
        [
            "mvn",
            "--batch-mode",
            "--quiet",
            "--strict-checksums",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={out}",
        ],
        work,
        f"mvn for {', '.join(group.coordinates)}",
    )
    return out


_IVY_SETTINGS = """<ivysettings>
  <settings defaultResolver="central"/>
  <caches defaultCacheDir="{cache}" checksums="sha1,md5"/>
  <resolvers>
    <ibiblio name="central" m2compatible="true" root="{repository}"/>
  </resolvers>
</ivysettings>
"""


def _with_spark(group: Group, work: Path) -> Path:
    """The group's jars resolved by Spark's own package resolution (Ivy), from Maven Central
    (or `$ECOM_MAVEN_REPOSITORY`), checksums checked."""
    import pyspark

    settings = work / "ivysettings.xml"
    repository = os.environ.get("ECOM_MAVEN_REPOSITORY", MAVEN_CENTRAL)
    settings.write_text(
        _IVY_SETTINGS.format(cache=work / "cache", repository=repository), encoding="utf-8"
    )
    script = work / "noop.py"
    script.write_text("", encoding="utf-8")
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    _run(
        [
            str(submit),
            "--master",
            "local[1]",
            "--conf",
            f"spark.jars.ivy={work / 'ivy'}",
            "--conf",
            f"spark.jars.ivySettings={settings}",
            "--packages",
            ",".join(group.coordinates),
            str(script),
        ],
        work,
        f"Spark's package resolution for {', '.join(group.coordinates)}",
    )
    # Spark names the jars `<organisation>_<artifact>-<version>.jar`: drop the organisation,
    # known from Ivy's cache folders, so both resolvers give the same file names
    caches = [work / "cache", work / "ivy" / "cache"]
    organisations = sorted(
        (path.name for cache in caches if cache.is_dir() for path in cache.iterdir()), key=len
    )
    out = work / "jars"
    out.mkdir()
    for path in (work / "ivy" / "jars").glob("*.jar"):
        prefixes = [org for org in organisations if path.name.startswith(f"{org}_")]
        name = path.name[len(prefixes[-1]) + 1 :] if prefixes else path.name
        shutil.copyfile(path, out / name)
    return out


def resolve(
    names: Iterable[str] | None = None,
    force: bool = False,
    via: str | None = None,
    root: Path | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """Fetch the groups (default: all) that are not resolved yet; `via` is `maven` or `spark`
    (default: Maven when `mvn` is on PATH)."""
    via = via or ("maven" if shutil.which("mvn") else "spark")
    for name in names or GROUPS:
        group = GROUPS[name]
        folder = group_dir(name, root)
        if is_resolved(group, root) and not force:
            log(f"{name}: up to date in {folder}")
            continue
        log(f"{name}: resolving {', '.join(group.coordinates)} with {via} ...")
        with tempfile.TemporaryDirectory(prefix="ecom-jars-") as temp:
            fetched = (_with_maven if via == "maven" else _with_spark)(group, Path(temp))
            shipped = _pyspark_artifacts() if group.on_spark else set()
            found = sorted(fetched.glob("*.jar"))
            if not found:
                raise PackagesError(f"{via} resolved no jar for {', '.join(group.coordinates)}")
            keep = [path for path in found if _artifact(path.name) not in shipped]
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            entries = {}
            for path in keep:
                target = folder / path.name
                shutil.copyfile(path, target)
                entries[target.name] = {"size": target.stat().st_size, "sha256": _sha256(target)}
                log(f"  {target.name} ({target.stat().st_size / 2**20:.1f} MiB)")
        manifest = {"coordinates": list(group.coordinates), "via": via, "jars": entries}
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        skipped = len(found) - len(keep)
        log(
            f"{name}: {len(keep)} jars in {folder}"
            + (f" ({skipped} left out: pyspark ships them)" if skipped else "")
        )


NAME = "jars"
HELP = "fetch the pinned JVM packages (Delta, Kafka connector and broker, JDBC) once, at setup"
DESCRIPTION = (
    (__doc__ or "")
    + """
`make setup` runs this; afterwards nothing is fetched at run time. Environment: ECOM_JARS_DIR
(where the jars go), ECOM_MAVEN_REPOSITORY (the repository Spark's resolution uses; Maven uses its
own settings, ~/.m2/settings.xml).
"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "groups",
        nargs="*",
        metavar="GROUP",
        help=f"which groups (default: all): {', '.join(GROUPS)}",
    )
    parser.add_argument("--force", action="store_true", help="fetch again even if up to date")
    parser.add_argument(
        "--via",
        choices=("maven", "spark"),
        help="resolver (default: Maven when `mvn` is installed, else Spark's own)",
    )


def run(args: argparse.Namespace) -> int:
    from ecom_analytics.cli import CommandError

    def say(message: str) -> None:
        print(f"[jars] {message}", flush=True)

    unknown = [name for name in args.groups if name not in GROUPS]
    if unknown:
        raise CommandError(f"unknown group {unknown[0]!r}: choose from {', '.join(GROUPS)}")
    if args.via == "maven" and not shutil.which("mvn"):
        raise CommandError("--via maven: `mvn` is not on PATH (leave --via out to use Spark's)")
    try:
        resolve(args.groups or None, force=args.force, via=args.via, log=say)
    except PackagesError as error:
        raise CommandError(str(error)) from None
    return 0
