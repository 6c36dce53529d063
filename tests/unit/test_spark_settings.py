"""profiles.yml's `local` target and ecom_analytics.spark_session must open the same Spark."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
import yaml

from ecom_analytics.spark_session import local_spark_conf

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
