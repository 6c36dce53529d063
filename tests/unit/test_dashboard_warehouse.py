"""Reading the warehouse without Spark: parquet folders laid out the way Spark writes them.

The layouts here are hand-made with pyarrow (Hive partition folders, Spark's `_SUCCESS` and
`.crc` side files, escaped partition values, the streaming job's versioned snapshots);
tests/integration/test_dashboard.py reads tables Spark and the streaming job wrote.
"""

from __future__ import annotations

import socket
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom_analytics.dashboard.warehouse import (
    ParquetWarehouse,
    TableNotFound,
    ThriftWarehouse,
    WarehouseError,
    WarehouseUnavailable,
    from_environment,
    source_name,
)


def write_part(folder: Path, table: pa.Table) -> None:
    """One data file plus the side files Spark leaves beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-00000-c000.snappy.parquet")
    (folder / ".part-00000-c000.snappy.parquet.crc").write_bytes(b"\x00crc")


@pytest.fixture
def warehouse(tmp_path: Path) -> ParquetWarehouse:
    root = tmp_path / "warehouse"
    schema = root / "shop.db"
    tasks = schema / "top10_categories"
    # Spark escapes special characters of partition values: task "a:b" lives in "a%3Ab"
    for folder, clicks in (("42", [7, 5]), ("a%3Ab", [9])):
        write_part(
            tasks / f"task_id={folder}",
            pa.table(
                {
                    "rank": pa.array(range(1, len(clicks) + 1), pa.int32()),
                    "click_count": pa.array(clicks, pa.int64()),
                }
            ),
        )
    (tasks / "_SUCCESS").write_text("")
    (tasks / "task_id=left-behind").mkdir()  # an empty partition folder is no task
    days = schema / "area_top3_products"
    for day, clicks in (("2026-11-16", 3), ("2026-11-17", 4)):
        write_part(
            days / f"action_date={day}",
            pa.table({"area": ["East China"], "click_count": pa.array([clicks], pa.int64())}),
        )
    write_part(
        schema / "ad_blacklist",
        pa.table(
            {
                "user_id": pa.array([1, 2], pa.int64()),
                "blacklisted_at": pa.array(
                    [datetime(2026, 11, 18, 8), datetime(2026, 11, 17, 9)], pa.timestamp("us")
                ),
                "click_date": pa.array([date(2026, 11, 18), date(2026, 11, 17)], pa.date32()),
            }
        ),
    )
    (schema / "ad_click_trend").mkdir()  # created, nothing written yet
    return ParquetWarehouse(root=root, schema="SHOP")


def test_partition_values_stay_strings_and_are_unescaped(warehouse: ParquetWarehouse) -> None:
    assert warehouse.distinct("top10_categories", "task_id") == ["42", "a:b"]
    rows = warehouse.read("top10_categories", task_id="42")
    assert rows.sort_values("rank")["click_count"].tolist() == [7, 5]
    assert set(rows["task_id"]) == {"42"}
    assert warehouse.read("top10_categories", task_id="a:b")["click_count"].tolist() == [9]
    assert len(warehouse.read("top10_categories")) == 3


def test_day_partitions_are_dates(warehouse: ParquetWarehouse) -> None:
    days = warehouse.distinct("area_top3_products", "action_date")
    assert days == [date(2026, 11, 16), date(2026, 11, 17)]
    rows = warehouse.read("area_top3_products", action_date=date(2026, 11, 17))
    assert rows["click_count"].tolist() == [4]
    assert rows["action_date"].tolist() == [date(2026, 11, 17)]


def test_unpartitioned_columns_filter_and_keep_their_types(warehouse: ParquetWarehouse) -> None:
    rows = warehouse.read("ad_blacklist", click_date=date(2026, 11, 18))
    assert rows["user_id"].tolist() == [1]
    assert rows["blacklisted_at"].tolist() == [pd.Timestamp("2026-11-18 08:00")]
    assert warehouse.distinct("ad_blacklist", "click_date") == [
        date(2026, 11, 17),
        date(2026, 11, 18),
    ]


def test_missing_and_empty_tables(warehouse: ParquetWarehouse) -> None:
    with pytest.raises(TableNotFound, match=r"shop\.db/ad_province_top3"):
        warehouse.read("ad_province_top3")
    assert warehouse.read("ad_click_trend").empty
    assert warehouse.distinct("ad_click_trend", "minute") == []
    with pytest.raises(ValueError, match="identifier"):
        warehouse.read("x; drop table y")


def clicks(values: list[int]) -> pa.Table:
    return pa.table({"ad_id": pa.array(range(len(values)), pa.int64()), "clicks": values})


def test_snapshot_tables_of_the_stream_show_their_newest_versions(tmp_path: Path) -> None:
    """The layout of streaming/storage.py: `_versions/[<key>=<value>/]batch_id=<n>/`, the
    metastore pointing at the newest; `_staging` holds a batch being written."""
    schema = tmp_path / "shop.db"
    daily = schema / "ad_daily_clicks" / "_versions"
    write_part(daily / "click_date=2026-11-17" / "batch_id=0", clicks([5, 1]))
    write_part(daily / "click_date=2026-11-17" / "batch_id=2", clicks([9, 4]))
    write_part(daily / "click_date=2026-11-18" / "batch_id=10", clicks([3]))
    write_part(daily / "click_date=2026-11-18" / "batch_id=9", clicks([2]))  # 10 > 9, not "9"
    write_part(schema / "ad_daily_clicks" / "_staging" / "batch_id=11", clicks([100]))
    write_part(schema / "ad_click_trend" / "_versions" / "batch_id=3", clicks([1, 1, 1]))
    write_part(schema / "ad_click_trend" / "_versions" / "batch_id=4", clicks([2, 2]))
    (schema / "ad_province_top3" / "_versions").mkdir(parents=True)  # no batch yet
    warehouse = ParquetWarehouse(root=tmp_path, schema="shop")

    rows = warehouse.read("ad_daily_clicks").sort_values(["click_date", "ad_id"])
    assert rows["click_date"].tolist() == [date(2026, 11, 17)] * 2 + [date(2026, 11, 18)]
    assert rows["clicks"].tolist() == [9, 4, 3]
    assert "batch_id" not in rows
    newest = warehouse.read("ad_daily_clicks", click_date=date(2026, 11, 18))
    assert newest["clicks"].tolist() == [3]
    assert warehouse.distinct("ad_daily_clicks", "click_date") == [
        date(2026, 11, 17),
        date(2026, 11, 18),
    ]
    assert warehouse.read("ad_click_trend")["clicks"].tolist() == [2, 2]
    assert warehouse.read("ad_province_top3").empty


def test_source_follows_the_environment(tmp_path: Path) -> None:
    local = from_environment({"ECOM_WAREHOUSE_DIR": str(tmp_path), "ECOM_SCHEMA": "s1"})
    assert local == ParquetWarehouse(root=tmp_path / "warehouse", schema="s1")
    thrift_env = {
        "ECOM_TARGET": "thrift",
        "ECOM_THRIFT_HOST": "spark.example",
        "ECOM_THRIFT_PORT": "10001",
        "ECOM_THRIFT_USER": "ana",
    }
    assert from_environment(thrift_env) == ThriftWarehouse(
        host="spark.example", port=10001, user="ana", schema="ecom"
    )
    ldap_tls = from_environment(
        {
            **thrift_env,
            "ECOM_THRIFT_AUTH": "LDAP",
            "DBT_ENV_SECRET_ECOM_THRIFT_PASSWORD": "s3cret",
            "ECOM_THRIFT_USE_SSL": "True",
        }
    )
    assert isinstance(ldap_tls, ThriftWarehouse)
    assert (ldap_tls.auth, ldap_tls.password, ldap_tls.use_ssl) == ("LDAP", "s3cret", True)
    assert "s3cret" not in repr(ldap_tls)
    assert source_name({"ECOM_TARGET": "thrift", "ECOM_DASHBOARD_SOURCE": "parquet"}) == "parquet"
    with pytest.raises(WarehouseError, match=r"ECOM_DASHBOARD_SOURCE='hdfs'.*parquet, thrift"):
        source_name({"ECOM_DASHBOARD_SOURCE": "hdfs"})
    with pytest.raises(WarehouseError, match="ECOM_THRIFT_PORT"):
        from_environment({"ECOM_DASHBOARD_SOURCE": "thrift", "ECOM_THRIFT_PORT": "ten"})


def test_an_unreachable_thrift_server_is_a_message_not_a_traceback() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    thrift = ThriftWarehouse(host="127.0.0.1", port=port, user="me", schema="ecom")
    with pytest.raises(WarehouseUnavailable, match=rf"cannot reach .* at 127\.0\.0\.1:{port}"):
        thrift.read("top10_categories", task_id="default")
