"""The dashboards' file source on a Delta table Spark wrote the way the stream does: commits of
appends, a MERGE and a DELETE, with deletion vectors. Read without Spark, it must show exactly
what Spark shows (tests/unit/test_dashboard_warehouse.py covers tables delta-rs wrote)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from ecom_analytics.dashboard.warehouse import FileWarehouse

pytestmark = pytest.mark.spark

SCHEMA = "t_dashboard_delta"
TABLE = "ad_user_daily_clicks"
DAY_17, DAY_18 = date(2026, 11, 17), date(2026, 11, 18)


@pytest.fixture(scope="module")
def spark_rows(spark: Any) -> pd.DataFrame:
    """`ad_user_daily_clicks` after four commits; the rows as Spark reads them."""
    name = f"{SCHEMA}.{TABLE}"
    spark.sql(f"create database if not exists {SCHEMA}")
    spark.sql(f"drop table if exists {name}")
    spark.sql(
        f"create table {name} (user_id bigint, ad_id bigint, clicks bigint,"
        " updated_at timestamp, click_date date) using delta partitioned by (click_date)"
        " tblproperties ('delta.enableDeletionVectors' = 'true')"
    )
    # batch 0: one click each of users 0-39 on both days
    spark.sql(
        f"insert into {name} select id % 40, id % 40 % 3, 1, timestamp'2026-11-18 10:00:00',"
        " date_add(date'2026-11-17', cast(id div 40 as int)) from range(80)"
    )
    # batch 1: users 0-9 click again on the 18th (updated in place: deletion vectors), user 100
    # clicks for the first time
    spark.sql(
        f"merge into {name} as t using (select id as user_id, id % 3 as ad_id, 1 as clicks,"
        " timestamp'2026-11-18 10:01:00' as updated_at, date'2026-11-18' as click_date"
        " from range(10) union all select 100, 0, 1, timestamp'2026-11-18 10:01:00',"
        " date'2026-11-18') as s"
        " on t.click_date = s.click_date and t.user_id = s.user_id and t.ad_id = s.ad_id"
        " when matched then update set t.clicks = t.clicks + s.clicks,"
        " t.updated_at = s.updated_at"
        " when not matched then insert *"
    )
    # users 20-29 of the 17th go away (deletion vectors again)
    spark.sql(
        f"delete from {name} where click_date = date'2026-11-17' and user_id between 20 and 29"
    )
    return spark.table(name).toPandas()


@pytest.fixture(scope="module")
def root() -> Path:
    return Path(os.environ["ECOM_WAREHOUSE_DIR"]) / "warehouse"


def by_key(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["click_date", "user_id", "ad_id", "clicks", "updated_at"]
    return frame[columns].sort_values(columns[:3]).reset_index(drop=True)


def test_the_table_has_the_commits_and_deletion_vectors_it_claims(
    spark_rows: pd.DataFrame, root: Path
) -> None:
    table = DeltaTable(root / f"{SCHEMA}.db" / TABLE)
    assert table.version() == 3  # create, insert, merge, delete
    assert table.protocol().reader_features == ["deletionVectors"]
    assert pa.table(table.deletion_vectors()).num_rows >= 2  # a file of each day
    assert len(spark_rows) == 80 + 1 - 10


def test_the_file_source_reads_what_spark_reads(spark_rows: pd.DataFrame, root: Path) -> None:
    warehouse = FileWarehouse(root=root, schema=SCHEMA)
    rows = warehouse.read(TABLE)
    pd.testing.assert_frame_equal(by_key(rows), by_key(spark_rows), check_dtype=False)
    assert isinstance(rows["click_date"].iloc[0], date)
    assert rows["updated_at"].dtype.kind == "M" and rows["updated_at"].dt.tz is None

    day = by_key(warehouse.read(TABLE, click_date=DAY_18))
    assert len(day) == 41
    assert day[day["user_id"] < 10]["clicks"].tolist() == [2] * 10
    assert (
        day[day["user_id"] < 10]["updated_at"].tolist() == [pd.Timestamp("2026-11-18 10:01")] * 10
    )
    assert warehouse.read(TABLE, click_date=DAY_17, user_id=25).empty
    assert warehouse.read(TABLE, user_id=5)["clicks"].sort_values().tolist() == [1, 2]
    assert warehouse.distinct(TABLE, "click_date") == [DAY_17, DAY_18]
    assert warehouse.distinct(TABLE, "user_id") == [*range(40), 100]  # 20-29 kept the 18th
