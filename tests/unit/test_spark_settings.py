"""profiles.yml's `local` target and ecom_analytics.spark_session must open the same Spark."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
import yaml

from ecom_analytics.spark_session import BATCH_JIT_OPTIONS, local_spark_conf

ROOT = Path(__file__).resolve().parents[2]


def rendered_local_parameters() -> dict[str, str]:
    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise KeyError(name)
        return value

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    profile = yaml.safe_load((ROOT / "profiles.yml").read_text())
    local = profile["ecom_analytics"]["outputs"]["local"]
    return {
        key: environment.from_string(str(value)).render(env_var=env_var)
        for key, value in local["server_side_parameters"].items()
    }


@pytest.mark.parametrize("warehouse", [None, "/tmp/some-warehouse"])
def test_profile_and_module_agree(monkeypatch: pytest.MonkeyPatch, warehouse: str | None) -> None:
    monkeypatch.setenv("ECOM_JARS_DIR", "/opt/ecom-jars")
    if warehouse is None:
        monkeypatch.delenv("ECOM_WAREHOUSE_DIR", raising=False)
    else:
        monkeypatch.setenv("ECOM_WAREHOUSE_DIR", warehouse)
    profile = rendered_local_parameters()
    module = local_spark_conf(app_name=profile["spark.app.name"])
    # dbt-spark adds ANSI-off itself to every connection; the module states it explicitly
    assert module.pop("spark.sql.ansi.enabled") == "false"
    assert profile == module
    expected_root = warehouse or ".warehouse"
    assert profile["spark.sql.warehouse.dir"] == f"{expected_root}/warehouse"
    assert (
        f"databaseName={expected_root}/metastore_db;"
        in profile["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )


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
