"""profiles.yml's `local` target and ecom_analytics.spark_session must open the same Spark, on
the same metastore (the warehouse's embedded one, or the service of ECOM_METASTORE_URI), and
give the same advice when it cannot be opened."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
import yaml

from ecom_analytics.spark_session import BATCH_JIT_OPTIONS, local_spark_conf
from ecom_analytics.warehouse_lock import advice

ROOT = Path(__file__).resolve().parents[2]


def render(value: object) -> str:
    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise KeyError(name)
        return value

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return environment.from_string(str(value)).render(env_var=env_var)


def local_profile() -> dict:
    return yaml.safe_load((ROOT / "profiles.yml").read_text())["ecom_analytics"]["outputs"]["local"]


def rendered_local_parameters() -> dict[str, str]:
    """The `local` target's Spark parameters as the adapter passes them on: a parameter
    rendered empty (from an unset variable) is left out."""
    rendered = {
        key: render(value) for key, value in local_profile()["server_side_parameters"].items()
    }
    return {key: value for key, value in rendered.items() if value != ""}


@pytest.mark.parametrize("uri", [None, "thrift://127.0.0.1:19083"])
@pytest.mark.parametrize("warehouse", [None, "/tmp/some-warehouse"])
def test_profile_and_module_agree(
    monkeypatch: pytest.MonkeyPatch, warehouse: str | None, uri: str | None
) -> None:
    monkeypatch.setenv("ECOM_JARS_DIR", "/opt/ecom-jars")
    if warehouse is None:
        monkeypatch.delenv("ECOM_WAREHOUSE_DIR", raising=False)
    else:
        monkeypatch.setenv("ECOM_WAREHOUSE_DIR", warehouse)
    if uri is None:
        monkeypatch.delenv("ECOM_METASTORE_URI", raising=False)
    else:
        monkeypatch.setenv("ECOM_METASTORE_URI", uri)
    profile = rendered_local_parameters()
    module = local_spark_conf(app_name=profile["spark.app.name"])
    # dbt-spark adds ANSI-off itself to every connection; the module states it explicitly
    assert module.pop("spark.sql.ansi.enabled") == "false"
    assert profile == module
    expected_root = warehouse or ".warehouse"
    assert profile["spark.sql.warehouse.dir"] == f"{expected_root}/warehouse"
    if uri is None:
        assert "spark.hadoop.hive.metastore.uris" not in profile
        assert (
            f"databaseName={expected_root}/metastore_db;"
            in profile["spark.hadoop.javax.jdo.option.ConnectionURL"]
        )
    else:
        # the service's metastore, never the warehouse's Derby database beside it
        assert profile["spark.hadoop.hive.metastore.uris"] == uri
        assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in profile


@pytest.mark.parametrize("uri", [None, "thrift://127.0.0.1:9083"])
def test_profile_and_module_give_the_same_advice(
    monkeypatch: pytest.MonkeyPatch, uri: str | None
) -> None:
    if uri is None:
        monkeypatch.delenv("ECOM_METASTORE_URI", raising=False)
    else:
        monkeypatch.setenv("ECOM_METASTORE_URI", uri)
    text = render(local_profile()["metastore_advice"])
    assert text == advice()
    assert ("unset ECOM_METASTORE_URI" in text) == (uri is not None)
    assert "ecom metastore start" in text


def test_batch_jit_options_only_where_asked() -> None:
    batch = local_spark_conf()
    stream = local_spark_conf(batch_jit=False)
    assert BATCH_JIT_OPTIONS in batch["spark.driver.extraJavaOptions"]
    assert "MaxNodeLimit" not in stream["spark.driver.extraJavaOptions"]
    assert "DontCompileHugeMethods" not in stream["spark.driver.extraJavaOptions"]
    assert stream["spark.driver.extraJavaOptions"].startswith("-XX:+UseParallelGC -Dderby")
    # everything else is the same Spark
    batch.pop("spark.driver.extraJavaOptions")
    stream.pop("spark.driver.extraJavaOptions")
    assert batch == stream


def test_the_stream_opens_spark_without_the_batch_jit_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ecom_analytics.spark_session as spark_session
    from streaming.job import StreamOptions, open_spark

    opened: dict[str, object] = {}

    def fake_local_spark(
        app_name: str, extra_conf: dict[str, str], batch_jit: bool = True, log_file: str = ""
    ):
        opened.update(
            app_name=app_name, extra_conf=extra_conf, batch_jit=batch_jit, log_file=log_file
        )
        return "spark"

    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    monkeypatch.setattr(spark_session, "local_spark", fake_local_spark)
    assert open_spark(StreamOptions()) == "spark"
    assert opened["batch_jit"] is False
    # Spark's log beside the checkpoint, not on the terminal
    assert opened["log_file"] == os.path.join(
        os.path.dirname(os.path.abspath(StreamOptions().checkpoint)), "ecom-stream.log"
    )
    assert opened["app_name"] == "ecom_analytics-ad_stream"
    # small memory pages: a broadcast's hash table takes one whole page of the Java heap
    assert opened["extra_conf"]["spark.buffer.pageSize"] == "1m"
