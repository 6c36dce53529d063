"""dbt-spark-oss pieces that need no JVM: code preparation, errors, literals, paths, routes."""

from __future__ import annotations

from typing import ClassVar

import pytest
from dbt.adapters.sparkoss.paths import local_path_missing, qualify_path
from dbt.adapters.sparkoss.python_submissions import (
    check_supported_config,
    default_route_for,
    describe_model_error,
    run_compiled_model,
    strip_leading_indent,
)
from dbt.adapters.sparkoss.session import expand_local_jars, sql_literal
from dbt_common.exceptions import DbtRuntimeError


def test_strip_leading_indent_keeps_line_numbers_and_inner_indentation() -> None:
    code = "\n  \n    def model(dbt, session):\n        return 1\n"
    stripped = strip_leading_indent(code)
    assert stripped.split("\n") == ["", "", "def model(dbt, session):", "        return 1", ""]


def test_model_error_names_model_and_compiled_line() -> None:
    code = "x = 1\n\ndef model(dbt, session):\n    return 1 / 0\n\nmodel(None, None)\n"
    with pytest.raises(DbtRuntimeError) as raised:
        run_compiled_model(code, spark=None, model_name="my_model")
    message = str(raised.value)
    assert "Python model 'my_model' failed" in message
    assert "compiled line 4: `return 1 / 0`" in message
    assert "ZeroDivisionError" in message


def test_model_error_without_model_frame_still_reads() -> None:
    message = describe_model_error(ValueError(""), "a = 1", "<elsewhere>", "m")
    assert message == "Python model 'm' failed: ValueError: ValueError"


def test_model_sees_spark_global() -> None:
    class FakeSession:
        calls: ClassVar[list[str]] = []

    run_compiled_model("spark.calls.append('ran')", spark=FakeSession, model_name="m")
    assert FakeSession.calls == ["ran"]


@pytest.mark.parametrize("key", ["packages", "cluster_id", "create_notebook", "timeout"])
def test_databricks_only_configs_fail_with_advice(key: str) -> None:
    with pytest.raises(DbtRuntimeError, match=f"sets `{key}`, which only Databricks supports"):
        check_supported_config("m", {key: ["x"] if key == "packages" else 1})


def test_empty_databricks_configs_are_fine() -> None:
    check_supported_config("m", {"packages": [], "materialized": "table"})


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "null"),
        (True, "true"),
        (3, 3.0),
        ("Xi'an", "'Xi\\'an'"),
        ("back\\slash", "'back\\\\slash'"),
        ("plain", "'plain'"),
    ],
)
def test_sql_literal(value: object, literal: object) -> None:
    assert sql_literal(value) == literal


def test_qualify_path(tmp_path) -> None:
    assert qualify_path("s3a://bucket/raw", "/project") == "s3a://bucket/raw"
    assert qualify_path("file:/data/raw", "/project") == "file:/data/raw"
    assert qualify_path("data/raw", "/project") == "/project/data/raw"
    assert qualify_path("/abs/raw", "/project") == "/abs/raw"
    assert local_path_missing(str(tmp_path / "nope"))
    assert not local_path_missing(str(tmp_path))
    assert not local_path_missing(f"file://{tmp_path}")
    assert not local_path_missing("hdfs://namenode/raw")


def test_default_route_follows_connection_method() -> None:
    class Credentials:
        method = "session"

    assert default_route_for(Credentials()) == "session"
    Credentials.method = "odbc"
    with pytest.raises(DbtRuntimeError, match="not supported on method 'odbc'"):
        default_route_for(Credentials())


def test_prepare_local_folders(tmp_path) -> None:
    from dbt.adapters.sparkoss.session import prepare_local_folders

    prepare_local_folders(
        {
            "spark.sql.warehouse.dir": str(tmp_path / "wh" / "warehouse"),
            "spark.driver.extraJavaOptions": (
                f"-Dderby.stream.error.file={tmp_path}/logs/d.log -Dx=1"
            ),
        }
    )
    assert (tmp_path / "wh" / "warehouse").is_dir()
    assert (tmp_path / "logs").is_dir()
    prepare_local_folders({"spark.sql.warehouse.dir": "s3a://bucket/warehouse"})  # left to Spark


def test_expand_local_jars(tmp_path) -> None:
    for name in ("b.jar", "a.jar", "notes.txt"):
        (tmp_path / name).write_text("")
    parameters = {
        "spark.master": "local[*]",
        "spark.jars": f"{tmp_path}/*.jar, hdfs:///libs/*.jar,{tmp_path}/notes.txt",
    }
    expanded = expand_local_jars(parameters)
    assert expanded["spark.jars"] == ",".join(
        [f"{tmp_path}/a.jar", f"{tmp_path}/b.jar", "hdfs:///libs/*.jar", f"{tmp_path}/notes.txt"]
    )
    assert expanded["spark.master"] == "local[*]"
    # the local jars on the driver's class path too, after what was there already
    assert expanded["spark.driver.extraClassPath"] == ":".join(
        [f"{tmp_path}/a.jar", f"{tmp_path}/b.jar", f"{tmp_path}/notes.txt"]
    )
    again = expand_local_jars(
        {**parameters, "spark.driver.extraClassPath": f"/x.jar:{tmp_path}/a.jar"}
    )
    assert again["spark.driver.extraClassPath"] == ":".join(
        ["/x.jar", f"{tmp_path}/a.jar", f"{tmp_path}/b.jar", f"{tmp_path}/notes.txt"]
    )
    assert expand_local_jars({"spark.master": "local[1]"}) == {"spark.master": "local[1]"}


def test_expand_local_jars_stops_on_a_pattern_matching_nothing(tmp_path) -> None:
    with pytest.raises(DbtRuntimeError, match=r"matches no file: fetch the jars first"):
        expand_local_jars({"spark.jars": f"{tmp_path}/spark/*.jar"})
