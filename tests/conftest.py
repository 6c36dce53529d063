"""Shared fixtures: one JVM and one temporary warehouse for each test process.

Every Spark test and every dbt invocation runs in the test process on the same embedded Spark
(the Derby metastore admits one JVM, and JVM starts dominate the run time). Test modules keep
apart by schema: each builds the project into a schema of its own. `make test` runs whole
modules in two processes (pytest-xdist), each with its own warehouse.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbt_harness import DbtProject
from tests.project_build import ProjectBuild, build_project

ROOT = Path(__file__).resolve().parents[1]
_SESSION_DIR: Path | None = None
# the `kafka_broker` fixture; the metastore fixtures (`locked_database`, PostgreSQL, the service)
pytest_plugins = ["tests.kafka_broker", "tests.metastore_service"]


def pytest_configure(config: pytest.Config) -> None:
    global _SESSION_DIR
    _SESSION_DIR = Path(tempfile.mkdtemp(prefix="ecom-tests-"))
    os.environ["ECOM_WAREHOUSE_DIR"] = str(_SESSION_DIR / "warehouse")
    # The session's JVM uses the warehouse's embedded metastore; tests that use a metastore
    # service (tests/metastore_service.py) say so for the programs they start.
    os.environ.pop("ECOM_METASTORE_URI", None)
    # Small data: few shuffle partitions, modest heap.
    os.environ.setdefault("ECOM_SHUFFLE_PARTITIONS", "4")
    os.environ.setdefault("ECOM_DRIVER_MEMORY", "3g")
    os.chdir(ROOT)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_DIR is not None and not os.environ.get("ECOM_KEEP_TEST_DIR"):
        shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def session_dir() -> Path:
    assert _SESSION_DIR is not None
    return _SESSION_DIR


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The session's embedded SparkSession (the one dbt's `local` target uses too)."""
    from ecom_analytics.spark_session import local_spark

    session = local_spark("ecom_analytics-tests")
    yield session


@pytest.fixture(scope="module")
def module_dir(session_dir: Path, request: pytest.FixtureRequest) -> Path:
    path = session_dir / request.module.__name__.rsplit(".", 1)[-1]
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def dbt_project(module_dir: Path, request: pytest.FixtureRequest) -> DbtProject:
    """The project, built into a schema of this test module's own, reading `module_dir/raw`."""
    schema = "t_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return DbtProject(
        project_dir=ROOT,
        raw_dir=module_dir / "raw",
        schema=schema,
        target_path=module_dir / "target",
    )


@pytest.fixture(scope="session")
def project_build(session_dir: Path, spark: object) -> ProjectBuild:
    """The whole project built once, as `make demo` does, on small generated data: shared by
    the modules that only read a real build (tests/project_build.py)."""
    return build_project(spark, session_dir / "project_build")
