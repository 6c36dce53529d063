"""The dashboards end to end: tables Spark wrote, read through both sources, shown in a browser.

Two warehouses feed them:

- the real one: the session's build of the whole project (tests/project_build.py: generated
  data, a bounded run of the streaming job, `dbt build`), as `make demo` leaves it. The app runs
  as `ecom dashboard` in a subprocess on a free loopback port, and headless Debian chromium
  (Playwright, never a downloaded browser) opens every page: each chart must have drawn as many
  bars or lines as the built tables imply (read with Spark, apart from the app's own reader),
  every dataframe must show rows, and no error box may appear. A screenshot per page goes to
  artifacts/screenshots/ (CI keeps it).
- crafted rows (tests/dashboard_tables.py) where exact values prove something: both sources read
  every table exactly (the stream's as Delta tables after a MERGE with deletion vectors), the
  task picker switches every number (two tasks), and the live page shows a new blacklist entry
  without being reloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from ecom_analytics.dashboard.contract import AD_TABLES, DAILY_TABLES, TASK_TABLES
from ecom_analytics.dashboard.views.ads import TREND_ADS, WATCH_LIST
from ecom_analytics.dashboard.warehouse import FileWarehouse, ThriftWarehouse, Warehouse
from tests.dashboard_tables import write_tables
from tests.project_build import ProjectBuild

pytestmark = [pytest.mark.spark, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "t_dashboard"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REFRESH_SECONDS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def crafted(spark: Any) -> dict[str, pd.DataFrame]:
    """Every SPEC 3 and 4 table, written by Spark; the frames are the expectations."""
    return write_tables(spark, SCHEMA)


@pytest.fixture(scope="module")
def built(project_build: ProjectBuild, spark: Any) -> dict[str, pd.DataFrame]:
    """Every table the dashboards show, as the real build left it, read with Spark."""
    schema = project_build.project.schema
    return {
        name: spark.table(f"{schema}.{name}").toPandas()
        for name in (*TASK_TABLES, *DAILY_TABLES, *AD_TABLES)
    }


def sorted_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    ordered = frame[columns].sort_values(columns, na_position="first")
    return ordered.reset_index(drop=True)


def assert_reads_every_table(source: Warehouse, crafted: dict[str, pd.DataFrame]) -> None:
    for name, expected in crafted.items():
        columns = expected.columns.tolist()
        actual = source.read(name)
        assert sorted(actual.columns) == sorted(columns), name
        pd.testing.assert_frame_equal(
            sorted_frame(actual, columns),
            sorted_frame(expected, columns),
            check_dtype=False,
            obj=name,
        )
    assert source.distinct("top10_categories", "task_id") == ["default", "t42"]
    day = date(2026, 11, 17)
    area = source.read("area_top3_products", action_date=day)
    assert len(area) == (crafted["area_top3_products"]["action_date"] == day).sum() > 0


def test_file_source_reads_every_table_spark_wrote(crafted: dict[str, pd.DataFrame]) -> None:
    root = Path(os.environ["ECOM_WAREHOUSE_DIR"]) / "warehouse"
    for name in AD_TABLES:  # what the crafted stream tables hold besides their rows
        table = DeltaTable(root / f"{SCHEMA}.db" / name)
        assert table.version() == 2, name  # created, appended to, merged into
        assert pa.table(table.deletion_vectors()).num_rows > 0, name
    assert_reads_every_table(FileWarehouse(root=root, schema=SCHEMA), crafted)


@contextmanager
def thrift_server(spark: Any) -> Iterator[int]:
    """A Spark Thrift Server on this session's Spark (no second JVM); yields its port."""
    port = free_port()
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    settings = {"hive.server2.thrift.port": str(port), "hive.server2.thrift.bind.host": "127.0.0.1"}
    for key, value in settings.items():
        hadoop.set(key, value)
    # Started from a new thread (a new JVM thread under PySpark's pinned threads): on a thread
    # that already used the metastore, Hive reuses that thread's settings and ignores the port.
    servers: list[Any] = []
    server_class = spark._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    starter = threading.Thread(
        target=lambda: servers.append(
            server_class.startWithContext(spark._jsparkSession.sqlContext())
        )
    )
    starter.start()
    starter.join()
    try:
        yield port
    finally:
        for server in servers:
            server.stop()
        for key in settings:
            hadoop.unset(key)


def test_thrift_source_reads_the_same_through_a_thrift_server(
    spark: Any, crafted: dict[str, pd.DataFrame]
) -> None:
    with thrift_server(spark) as port:
        source = ThriftWarehouse(host="127.0.0.1", port=port, user="test", schema=SCHEMA)
        assert_reads_every_table(source, crafted)


@contextmanager
def dashboard(schema: str, log_path: Path) -> Iterator[str]:
    """`ecom dashboard` on a free loopback port reading `schema`; yields its URL, then stops it."""
    port = free_port()
    log = log_path.open("w")
    env = {**os.environ, "ECOM_SCHEMA": schema, "ECOM_DASHBOARD_SOURCE": "files"}
    command = [str(Path(sys.executable).with_name("ecom")), "dashboard", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--refresh", str(REFRESH_SECONDS)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("dashboard did not start:\n" + log_path.read_text())
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def app_url(project_build: ProjectBuild, module_dir: Path) -> Iterator[str]:
    """The app on the real build's schema."""
    with dashboard(project_build.project.schema, module_dir / "dashboard.log") as url:
        yield url


@pytest.fixture(scope="module")
def crafted_url(crafted: dict[str, pd.DataFrame], module_dir: Path) -> Iterator[str]:
    """The app on the crafted schema."""
    with dashboard(SCHEMA, module_dir / "dashboard-crafted.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "Debian chromium is missing: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


# What a chart drew: bars (`rect` marks) and lines, counted in its SVG.
MARKS_JS = """
() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(chart => [
    chart.querySelectorAll('g.mark-rect.role-mark > path').length,
    chart.querySelectorAll('g.mark-line.role-mark > path').length,
])
"""
# Rows each visible dataframe shows (cells of its first column); those in closed expanders are
# not drawn.
ROWS_JS = """
() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter(frame => frame.checkVisibility())
    .map(frame => frame.querySelectorAll('[data-testid^="glide-cell-0-"]').length)
"""


def open_page(page: Any, url: str, charts: int, dataframes: int = 0) -> None:
    """Load a page; wait until the app is idle and its charts and dataframes have drawn."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
        timeout=60_000,
    )
    try:
        page.wait_for_function(
            f"() => ({MARKS_JS})().filter(([bars, lines]) => bars + lines > 0).length >= {charts}"
            f" && ({ROWS_JS})().filter(rows => rows > 0).length >= {dataframes}",
            timeout=60_000,
        )
    except Exception:
        # what the page showed instead, for the CI artefact
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "failed-" + (url.split("/")[-1].split("?")[0] or "start")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        raise


def check_page(page: Any, screenshot: str | None = None) -> tuple[list[list[int]], list[int]]:
    """Fail on any error box; save the screenshot if named; return the charts' marks and the
    dataframes' rows."""
    for error_box in ("stException", "stAlert"):
        boxes = page.locator(f'[data-testid="{error_box}"]')
        assert boxes.count() == 0, f"{page.url}: {error_box}: {boxes.all_inner_texts()}"
    marks, rows = page.evaluate(MARKS_JS), page.evaluate(ROWS_JS)
    if screenshot:
        # the whole page in one picture: grow the window to the content's height
        height = page.evaluate(
            "document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
        )
        page.set_viewport_size({"width": 1400, "height": max(900, height + 80)})
        page.wait_for_timeout(500)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{screenshot}.png"), full_page=True)
        page.set_viewport_size({"width": 1400, "height": 1000})
    return marks, rows


def metric(page: Any, label: str) -> str:
    """The value a metric shows, found by its label."""
    label_box = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    box = page.get_by_test_id("stMetric").filter(has=label_box)
    return str(box.get_by_test_id("stMetricValue").inner_text())


def of_task(frame: pd.DataFrame, task: str = "default") -> pd.DataFrame:
    return frame[frame["task_id"] == task]


# --- every page on the real build -----------------------------------------------------------


def test_session_lengths_page(page: Any, app_url: str, built: dict[str, pd.DataFrame]) -> None:
    open_page(page, app_url, charts=2)
    marks, _ = check_page(page, "session-lengths")
    distribution = of_task(built["session_length_distribution"])
    buckets = distribution.groupby("dimension").size()
    assert (buckets["visit_length"], buckets["step_length"]) == (9, 6)
    assert marks == [[9, 0], [6, 0]]
    visit = distribution[distribution["dimension"] == "visit_length"]
    assert visit["sessions"].sum() > 100
    assert metric(page, "Matching sessions") == f"{visit['sessions'].sum():,}"
    assert "Reading table files in" in page.locator('[data-testid="stSidebar"]').inner_text()


def test_session_extract_page(page: Any, app_url: str, built: dict[str, pd.DataFrame]) -> None:
    open_page(page, f"{app_url}/session-extract", charts=1, dataframes=1)
    marks, rows = check_page(page, "session-extract")
    extract = of_task(built["session_random_extract"])
    assert len(extract) == 100  # the default extract_sessions: more sessions match
    assert marks == [[extract["date_hour"].nunique(), 0]]
    assert rows and rows[0] >= 10
    assert metric(page, "Sessions extracted") == str(len(extract))
    assert metric(page, "Hour slots") == str(extract["date_hour"].nunique())


def test_top_categories_page(page: Any, app_url: str, built: dict[str, pd.DataFrame]) -> None:
    open_page(page, f"{app_url}/top-categories", charts=2, dataframes=1)
    marks, rows = check_page(page, "top-categories")
    top10 = of_task(built["top10_categories"])
    assert len(top10) == 10
    leader = top10.loc[top10["rank"].idxmin(), "category_id"]
    sessions = of_task(built["top10_category_sessions"])
    leader_sessions = (sessions["category_id"] == leader).sum()
    assert leader_sessions == 10
    # clicks, orders and payments per category; then the leader's sessions
    assert marks == [[3 * len(top10), 0], [leader_sessions, 0]]
    assert rows == [leader_sessions]


def test_page_flow_page(page: Any, app_url: str, built: dict[str, pd.DataFrame]) -> None:
    open_page(page, f"{app_url}/page-flow", charts=2, dataframes=1)
    marks, rows = check_page(page, "page-flow")
    steps = of_task(built["page_conversion_rates"]).sort_values("step")
    assert len(steps) == 6 and steps["conversion_rate"].notna().all()
    assert marks == [[len(steps) + 1, 0], [len(steps), 0]]  # funnel stages, rate per step
    assert rows == [len(steps)]
    whole = steps["jump_count"].iloc[-1] / steps["base_count"].iloc[0]
    assert metric(page, "Whole flow") == f"{whole:.2%}"
    page.get_by_text("Flow: pages 1 → 2 → 3 → 4 → 5 → 6 → 7").wait_for()


def pick_breakdown(page: Any, kind: str, value: str) -> None:
    """Choose a breakdown on the funnel page: its kind, then (for area and day) its value."""
    page.get_by_test_id("stRadio").get_by_text(kind, exact=True).click()
    # the picker of the kind chosen before may still show while the page reruns
    picker = page.get_by_test_id("stMainBlockContainer").get_by_test_id("stSelectbox")
    picker = picker.filter(has=page.get_by_text(kind, exact=True))
    picker.wait_for()
    picker.click()
    page.get_by_role("option", name=value, exact=True).click()


def wait_for_metric(page: Any, label: str, value: str) -> None:
    label_box = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    box = page.get_by_test_id("stMetric").filter(has=label_box)
    box.get_by_test_id("stMetricValue").filter(has_text=value).wait_for(timeout=30_000)


def test_funnel_page_and_its_breakdown_picker(
    page: Any, app_url: str, built: dict[str, pd.DataFrame]
) -> None:
    funnel = of_task(built["funnel_conversion"])
    everyone = funnel[funnel["breakdown_kind"] == "all"].sort_values("step")
    # the default funnel: the pages of target_page_flow; units get past step 1
    assert everyone["step_name"].tolist() == [f"page:{page}" for page in range(1, 8)]
    reached = everyone["units_reached"].tolist()
    assert reached[0] > reached[1] > 0
    later = int(((everyone["step"] > 1) & (everyone["units_reached"] > 0)).sum())
    open_page(page, f"{app_url}/funnel", charts=2, dataframes=1)
    marks, rows = check_page(page, "funnel")
    # reached and dropped per step; median and p90 per later step that some unit reached
    assert marks == [[2 * len(everyone), 0], [2 * later, 0]]
    assert rows == [len(everyone)]
    assert metric(page, "Units at step 1") == f"{reached[0]:,}"
    assert metric(page, "Reached the last step") == f"{reached[-1]:,}"
    page.get_by_text("page:1 → page:2 → page:3 → page:4 → page:5 → page:6 → page:7").wait_for()
    page.get_by_text("ordered (other events may come between steps)").wait_for()

    # every area and day the mart has is offered; each switches the numbers
    for kind, label in (("area", "Area of entry"), ("entry_date", "Day of entry")):
        of_kind = funnel[(funnel["breakdown_kind"] == kind) & (funnel["step"] == 1)]
        assert len(of_kind) >= 2, kind
        chosen = of_kind.sort_values("units_reached").iloc[0]
        pick_breakdown(page, label, chosen["breakdown_value"])
        wait_for_metric(page, "Units at step 1", f"{chosen['units_reached']:,}")
        assert sum(of_kind["units_reached"]) == reached[0]


def test_area_top3_page_and_its_day_picker(
    page: Any, app_url: str, built: dict[str, pd.DataFrame]
) -> None:
    area = built["area_top3_products"]
    assert area["action_date"].nunique() == 3
    newest = area["action_date"].max()
    open_page(page, f"{app_url}/area-top3", charts=1, dataframes=1)
    marks, rows = check_page(page, "area-top3")
    of_day = area[area["action_date"] == newest]
    assert marks == [[len(of_day), 0]]
    assert rows == [len(of_day)]
    assert metric(page, "Day") == newest.isoformat()
    assert metric(page, "Clicks on the top products") == f"{of_day['click_count'].sum():,}"
    oldest = area["action_date"].min()
    open_page(page, f"{app_url}/area-top3?day={oldest.isoformat()}", charts=1)
    assert metric(page, "Day") == oldest.isoformat()
    clicks = area[area["action_date"] == oldest]["click_count"].sum()
    assert metric(page, "Clicks on the top products") == f"{clicks:,}"


def test_live_ads_page(page: Any, app_url: str, built: dict[str, pd.DataFrame]) -> None:
    open_page(page, f"{app_url}/live-ads", charts=2, dataframes=2)
    marks, rows = check_page(page, "live-ads")
    daily = built["ad_daily_clicks"]
    newest = daily["click_date"].max()
    top3 = built["ad_province_top3"]
    trend = built["ad_click_trend"]
    ads = trend[trend["minute"] > trend["minute"].max() - pd.Timedelta(hours=1)]["ad_id"].nunique()
    lines = min(ads, TREND_ADS) + (ads > TREND_ADS)  # the leading ads, and one for the others
    assert marks == [[(top3["click_date"] == newest).sum(), 0], [0, lines]]
    blacklist = built["ad_blacklist"]
    clickers = built["ad_user_daily_clicks"]
    assert len(blacklist) >= 1
    assert rows == [len(blacklist), min(WATCH_LIST, (clickers["click_date"] == newest).sum())]
    assert metric(page, "Clicks") == f"{daily[daily['click_date'] == newest]['clicks'].sum():,}"
    assert metric(page, "Blacklisted users") == str(len(blacklist))


# --- crafted rows: exact values --------------------------------------------------------------


def test_task_picker_switches_every_number(
    page: Any, crafted_url: str, crafted: dict[str, pd.DataFrame]
) -> None:
    open_page(page, crafted_url, charts=2)
    check_page(page)
    default = of_task(crafted["session_length_distribution"])
    matching = default[default["dimension"] == "visit_length"]["sessions"].sum()
    assert metric(page, "Matching sessions") == f"{matching:,}"
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="t42").click()
    t42 = of_task(crafted["session_length_distribution"], "t42")
    matching = t42[t42["dimension"] == "visit_length"]["sessions"].sum()
    value = page.get_by_test_id("stMetricValue").first
    value.filter(has_text=f"{matching:,}").wait_for(timeout=30_000)
    assert page.url.endswith("?task=t42")
    # the chosen task is kept when moving to another task-keyed page
    page.get_by_test_id("stSidebarNav").get_by_text("Page flow").click()
    page.get_by_role("heading", name="Page flow").wait_for()
    rates = of_task(crafted["page_conversion_rates"], "t42")
    steps = rates.sort_values("step")
    flow = [*steps["from_page_id"], steps["to_page_id"].iloc[-1]]
    page.get_by_text(f"Flow: pages {' → '.join(map(str, flow))}").wait_for()


def test_funnel_page_shows_a_tasks_numbers_and_parameters(
    page: Any, crafted_url: str, crafted: dict[str, pd.DataFrame]
) -> None:
    open_page(page, f"{crafted_url}/funnel?task=default", charts=2, dataframes=1)
    check_page(page)
    # all units 900, 610, 330, 120 over four steps; 3 of them may still convert
    assert metric(page, "Units at step 1") == "900"
    assert metric(page, "Conversion") == "13.3%"
    assert metric(page, "Median time to the last step") == "2.2 min"
    page.get_by_text("3 of the units that stopped short").wait_for()
    pick_breakdown(page, "Area of entry", "North China")
    wait_for_metric(page, "Conversion", "10.0%")
    assert metric(page, "Units at step 1") == "400"
    pick_breakdown(page, "Day of entry", "2026-11-17")
    wait_for_metric(page, "Units at step 1", "480")
    # another task: its own funnel and the parameters it was built with
    open_page(page, f"{crafted_url}/funnel?task=t42", charts=2, dataframes=1)
    marks, rows = check_page(page)
    assert marks == [[6, 0], [2, 0]]  # three steps; only step 2 was reached after the entry
    assert rows == [3]
    assert metric(page, "Conversion") == "0.0%"
    assert metric(page, "Median time to the last step") == "n/a"
    built_with = page.get_by_test_id("stMainBlockContainer").inner_text()
    for text in (
        "search:tea set → order:any → pay:any",
        "1.0 h",
        "strict (each step is the very next event)",
        "each user (all their sessions)",
        "2026-11-17 to 2026-11-17",
        "professions Engineer; home cities Beijing, Wuhan; keywords tea set; sex female; "
        "ages 20 to 40",
    ):
        assert text in built_with, text


def test_live_ads_page_refreshes_itself(
    page: Any, crafted_url: str, crafted: dict[str, pd.DataFrame], spark: Any
) -> None:
    open_page(page, f"{crafted_url}/live-ads", charts=2, dataframes=2)
    marks, rows = check_page(page)
    newest = crafted["ad_daily_clicks"]["click_date"].max()
    trend = crafted["ad_click_trend"]
    ads = trend["ad_id"].nunique()
    lines = min(ads, TREND_ADS) + (ads > TREND_ADS)
    top3 = crafted["ad_province_top3"]
    assert marks == [[(top3["click_date"] == newest).sum(), 0], [0, lines]]
    blacklist = crafted["ad_blacklist"]
    assert rows == [len(blacklist), WATCH_LIST]
    assert metric(page, "Blacklisted users") == str(len(blacklist))

    # the stream blacklists one more user: the page shows it without being reloaded
    spark.sql(
        f"insert into {SCHEMA}.ad_blacklist values "
        "(9999, timestamp'2026-11-18 15:31:00', 'more than 100 clicks on ad 2 on 2026-11-18')"
    )
    page.wait_for_function(
        f"() => ({ROWS_JS})()[0] === {len(blacklist) + 1}", timeout=(REFRESH_SECONDS + 30) * 1000
    )
    assert metric(page, "Blacklisted users") == str(len(blacklist) + 1)
