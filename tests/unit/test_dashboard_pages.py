"""Every dashboard page on a warehouse without the tables: a message saying what to do, never a
traceback (Streamlit's AppTest runs the pages headless; the browser test covers full data)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ecom_analytics.dashboard.app import PAGES

RENDER = {page.url_path: page.render for page in PAGES}
MART_PAGES = [
    "session-lengths",
    "session-extract",
    "top-categories",
    "page-flow",
    "funnel",
    "area-top3",
]


def run_page(module: str, function: str) -> None:
    """The AppTest script: one page of the app, by its render function."""
    import importlib

    getattr(importlib.import_module(module), function)()


def page_test(url_path: str) -> AppTest:
    render = RENDER[url_path]
    app = AppTest.from_function(run_page, args=(render.__module__, render.__name__))
    return app.run(timeout=30)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """The app caches its source per process; every test configures its own."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def empty_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("ECOM_SCHEMA", "nothing_built")
    monkeypatch.delenv("ECOM_DASHBOARD_SOURCE", raising=False)
    monkeypatch.delenv("ECOM_TARGET", raising=False)
    return tmp_path


def messages(app: AppTest) -> list[str]:
    return [element.value for element in [*app.info, *app.warning, *app.error]]


def test_the_app_registers_a_page_per_module() -> None:
    assert sorted(RENDER) == sorted([*MART_PAGES, "live-ads"])


@pytest.mark.parametrize("url_path", MART_PAGES)
def test_mart_pages_without_tables_say_run_make_demo(empty_warehouse: Path, url_path: str) -> None:
    app = page_test(url_path)
    assert not app.exception
    assert any("make demo" in text for text in messages(app)), messages(app)


def test_live_page_without_stream_tables_says_start_the_stream(empty_warehouse: Path) -> None:
    app = page_test("live-ads")
    assert not app.exception
    assert any("ad_daily_clicks" in text and "stream" in text for text in messages(app))


def test_a_table_missing_beside_others_is_named(empty_warehouse: Path) -> None:
    """A task exists (one mart built), the page's own mart does not: that mart is named."""
    folder = empty_warehouse / "warehouse/nothing_built.db/top10_categories/task_id=default"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"rank": [1], "category_id": [3]}), folder / "part-0.parquet")
    app = page_test("page-flow")
    assert not app.exception
    assert app.selectbox[0].value == "default"
    assert messages(app) == [
        "Table `page_conversion_rates` is not in the warehouse yet: "
        "run `make demo` (or `dbt build`) first."
    ]


def test_an_unreachable_thrift_server_is_a_warning(
    empty_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ECOM_DASHBOARD_SOURCE", "thrift")
    monkeypatch.setenv("ECOM_THRIFT_HOST", "127.0.0.1")
    monkeypatch.setenv("ECOM_THRIFT_PORT", str(port))
    app = page_test("live-ads")
    assert not app.exception
    assert any("cannot reach the Spark Thrift Server" in text for text in messages(app))
