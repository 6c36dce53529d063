"""Reading the warehouse without Spark: the marts' Parquet folders, the stream's Delta tables.

The Parquet layouts are hand-made with pyarrow (Hive partition folders, Spark's `_SUCCESS` and
`.crc` side files, escaped partition values); the Delta tables are written by delta-rs, commit
by commit (appends, a MERGE, a DELETE). tests/integration/test_dashboard_delta.py reads Delta
tables Spark wrote with deletion vectors, tests/integration/test_dashboard.py every table.
"""

from __future__ import annotations

import json
import socket
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from ecom_analytics.dashboard.warehouse import (
    FileWarehouse,
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
def warehouse(tmp_path: Path) -> FileWarehouse:
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
    return FileWarehouse(root=root, schema="SHOP")


def test_partition_values_stay_strings_and_are_unescaped(warehouse: FileWarehouse) -> None:
    assert warehouse.distinct("top10_categories", "task_id") == ["42", "a:b"]
    rows = warehouse.read("top10_categories", task_id="42")
    assert rows.sort_values("rank")["click_count"].tolist() == [7, 5]
    assert set(rows["task_id"]) == {"42"}
    assert warehouse.read("top10_categories", task_id="a:b")["click_count"].tolist() == [9]
    assert len(warehouse.read("top10_categories")) == 3


def test_day_partitions_are_dates(warehouse: FileWarehouse) -> None:
    days = warehouse.distinct("area_top3_products", "action_date")
    assert days == [date(2026, 11, 16), date(2026, 11, 17)]
    rows = warehouse.read("area_top3_products", action_date=date(2026, 11, 17))
    assert rows["click_count"].tolist() == [4]
    assert rows["action_date"].tolist() == [date(2026, 11, 17)]


def test_unpartitioned_columns_filter_and_keep_their_types(warehouse: FileWarehouse) -> None:
    rows = warehouse.read("ad_blacklist", click_date=date(2026, 11, 18))
    assert rows["user_id"].tolist() == [1]
    assert rows["blacklisted_at"].tolist() == [pd.Timestamp("2026-11-18 08:00")]
    assert warehouse.distinct("ad_blacklist", "click_date") == [
        date(2026, 11, 17),
        date(2026, 11, 18),
    ]


def test_missing_and_empty_tables(warehouse: FileWarehouse) -> None:
    with pytest.raises(TableNotFound, match=r"shop\.db/ad_province_top3"):
        warehouse.read("ad_province_top3")
    assert warehouse.read("ad_click_trend").empty
    assert warehouse.distinct("ad_click_trend", "minute") == []
    with pytest.raises(ValueError, match="identifier"):
        warehouse.read("x; drop table y")


UTC_MICROS = pa.timestamp("us", tz="UTC")  # Spark's `timestamp` in a Delta table


def daily_clicks(rows: list[tuple[date, str, int, int]], batch: int) -> pa.Table:
    """`ad_daily_clicks` rows (day, province, ad, clicks) as micro-batch `batch` writes them."""
    days, provinces, ads, counts = zip(*rows, strict=True)
    return pa.table(
        {
            "ad_id": pa.array(ads, pa.int64()),
            "province": list(provinces),
            "clicks": pa.array(counts, pa.int64()),
            "updated_at": pa.array([datetime(2026, 11, 18, 9, batch)] * len(rows), UTC_MICROS),
            "click_date": pa.array(days, pa.date32()),
        }
    )


DAY_16, DAY_17, DAY_18 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)


@pytest.fixture
def stream_schema(tmp_path: Path) -> Path:
    """`ad_daily_clicks` after five commits of the stream, as delta-rs writes them."""
    path = tmp_path / "shop.db" / "ad_daily_clicks"
    batches = [
        [(DAY_16, "Hubei", 0, 4), (DAY_17, "Hubei", 0, 5), (DAY_17, "Hunan", 1, 1)],
        [(DAY_18, "Hubei", 0, 2)],
    ]
    for batch, rows in enumerate(batches):
        write_deltalake(path, daily_clicks(rows, batch), partition_by="click_date", mode="append")
    table = DeltaTable(path)
    news = daily_clicks([(DAY_17, "Hubei", 0, 9), (DAY_18, "Hunan", 2, 3)], batch=2)
    (
        table.merge(
            news,
            "t.click_date = s.click_date and t.province = s.province and t.ad_id = s.ad_id",
            source_alias="s",
            target_alias="t",
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    table.delete(f"click_date = '{DAY_16}'")
    # the next batch's file, written but not committed (yet, or ever: the batch failed)
    pq.write_table(
        daily_clicks([(DAY_18, "Hubei", 0, 100)], batch=4),
        path / f"click_date={DAY_18}" / "part-00000-uncommitted.c000.snappy.parquet",
    )
    return tmp_path


def test_a_delta_table_shows_its_newest_commit_and_nothing_else(stream_schema: Path) -> None:
    path = stream_schema / "shop.db" / "ad_daily_clicks"
    assert DeltaTable(path).version() == 3  # two appends, a MERGE, a DELETE
    assert list((path / f"click_date={DAY_16}").glob("*.parquet"))  # deleted, still on disk
    warehouse = FileWarehouse(root=stream_schema, schema="shop")

    rows = warehouse.read("ad_daily_clicks").sort_values(["click_date", "ad_id"])
    assert rows[["click_date", "province", "ad_id", "clicks"]].values.tolist() == [
        [DAY_17, "Hubei", 0, 9],
        [DAY_17, "Hunan", 1, 1],
        [DAY_18, "Hubei", 0, 2],
        [DAY_18, "Hunan", 2, 3],
    ]
    assert rows["updated_at"].tolist() == [
        pd.Timestamp("2026-11-18 09:02"),
        pd.Timestamp("2026-11-18 09:00"),
        pd.Timestamp("2026-11-18 09:01"),
        pd.Timestamp("2026-11-18 09:02"),
    ]
    assert str(rows["clicks"].dtype) == "int64"
    assert warehouse.distinct("ad_daily_clicks", "click_date") == [DAY_17, DAY_18]
    assert warehouse.distinct("ad_daily_clicks", "updated_at") == [
        pd.Timestamp(f"2026-11-18 09:0{batch}") for batch in range(3)
    ]


def test_delta_filters_on_partition_and_data_columns(stream_schema: Path) -> None:
    warehouse = FileWarehouse(root=stream_schema, schema="shop")
    newest = warehouse.read("ad_daily_clicks", click_date=DAY_18)
    assert sorted(newest["clicks"]) == [2, 3]
    assert set(newest["click_date"]) == {DAY_18}
    hubei = warehouse.read("ad_daily_clicks", province="Hubei", ad_id=0)
    assert sorted(zip(hubei["click_date"], hubei["clicks"], strict=True)) == [
        (DAY_17, 9),
        (DAY_18, 2),
    ]
    at = warehouse.read("ad_daily_clicks", updated_at=pd.Timestamp("2026-11-18 09:02"))
    assert sorted(at["clicks"]) == [3, 9]
    assert warehouse.read("ad_daily_clicks", province="Hubei'; --").empty
    assert warehouse.distinct("ad_daily_clicks", "no_such_column") == []
    with pytest.raises(ValueError, match="no column rank"):
        warehouse.read("ad_daily_clicks", rank=1)


def test_empty_and_uncommitted_delta_tables(tmp_path: Path) -> None:
    schema = pa.schema([("minute", UTC_MICROS), ("ad_id", pa.int64()), ("clicks", pa.int64())])
    DeltaTable.create(tmp_path / "shop.db" / "ad_click_trend", schema)
    (tmp_path / "shop.db" / "ad_province_top3" / "_delta_log").mkdir(parents=True)
    warehouse = FileWarehouse(root=tmp_path, schema="shop")
    assert warehouse.read("ad_click_trend").empty
    assert warehouse.distinct("ad_click_trend", "minute") == []
    with pytest.raises(TableNotFound, match="no committed version"):
        warehouse.read("ad_province_top3")


def test_a_delta_feature_deltalake_lacks_is_a_message_not_rows(stream_schema: Path) -> None:
    log = stream_schema / "shop.db" / "ad_daily_clicks" / "_delta_log"
    protocol = {
        "minReaderVersion": 3,
        "minWriterVersion": 7,
        "readerFeatures": ["aFutureFeature"],
        "writerFeatures": ["aFutureFeature"],
    }
    (log / f"{4:020d}.json").write_text(json.dumps({"protocol": protocol}) + "\n")
    warehouse = FileWarehouse(root=stream_schema, schema="shop")
    with pytest.raises(WarehouseUnavailable, match=r"Delta Lake feature .*aFutureFeature.*thrift"):
        warehouse.read("ad_daily_clicks")


def test_source_follows_the_environment(tmp_path: Path) -> None:
    local_env = {"ECOM_WAREHOUSE_DIR": str(tmp_path), "ECOM_SCHEMA": "s1"}
    local = from_environment(local_env)
    assert local == FileWarehouse(root=tmp_path / "warehouse", schema="s1")
    assert from_environment({**local_env, "ECOM_DASHBOARD_SOURCE": "parquet"}) == local
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
    assert source_name({"ECOM_TARGET": "thrift", "ECOM_DASHBOARD_SOURCE": "files"}) == "files"
    assert source_name({"ECOM_DASHBOARD_SOURCE": "Parquet"}) == "files"  # the former name
    with pytest.raises(WarehouseError, match=r"ECOM_DASHBOARD_SOURCE='hdfs'.*files, thrift"):
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
