"""Generated raw data (SPEC 1.1): schema, column invariants, shapes, skew, dirt, determinism.

The checks read the Parquet files back and re-derive everything independently of the generator's
code: defects are detected from the values alone and compared with the manifest's counts.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom_analytics.generator import catalog
from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.pipeline import generate

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SMALL = GenerateConfig(days=3, users=300, sessions_per_day=700, dirt_share=0.03)
START = pd.Timestamp("2026-11-16")
DIRT_COLUMNS = {
    "unparsable_action_time": "bad_time",
    "null_session_id": "null_session",
    "null_user_id": "null_user",
    "unknown_city": "bad_city",
    "malformed_id_list": "bad_list",
    "duplicate": "duplicate",
}
LIST_COLUMNS = ["order_category_ids", "order_product_ids", "pay_category_ids", "pay_product_ids"]
ID_LIST = re.compile(r"\d+(,\d+)*")
TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
VISIT_BUCKETS = [-1, 3, 6, 9, 30, 60, 180, 600, 1800, np.inf]
STEP_BUCKETS = [0, 3, 6, 9, 30, 60, np.inf]


def run(tmp_path: Path, config: GenerateConfig = SMALL) -> tuple[Path, dict]:
    """Generate `config` into `tmp_path/raw`; returns the raw dir and its manifest."""
    raw_dir = tmp_path / "raw"
    generate(replace(config, raw_dir=raw_dir, ad_click_dir=tmp_path / "ads"), progress=False)
    return raw_dir, json.loads((raw_dir / "_manifest.json").read_text())


def read_actions(raw_dir: Path) -> pd.DataFrame:
    """All action rows, with `date` taken from the partition directory."""
    frames = []
    for path in sorted((raw_dir / "user_visit_action").glob("date=*/*.parquet")):
        frame = pq.read_table(path).to_pandas()
        frame["date"] = path.parent.name.removeprefix("date=")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def detect_dirt(actions: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per defect kind, found from the values alone."""
    parsed = pd.to_datetime(actions["action_time"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    well_shaped = actions["action_time"].fillna("").map(lambda text: bool(TIME.fullmatch(text)))

    def broken_list(column: str) -> pd.Series:
        values = actions[column]
        return values.notna() & ~values.fillna("0").map(lambda text: bool(ID_LIST.fullmatch(text)))

    return pd.DataFrame(
        {
            "bad_time": parsed.isna() | ~well_shaped,
            "null_session": actions["session_id"].isna(),
            "null_user": actions["user_id"].isna(),
            "bad_city": ~actions["city_id"].isin(range(10)),
            "bad_list": np.logical_or.reduce([broken_list(column) for column in LIST_COLUMNS]),
            "duplicate": actions.duplicated(keep="first"),
        }
    )


def ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, pd.DataFrame]:
    raw_dir, manifest = run(tmp_path_factory.mktemp("small"))
    return raw_dir, manifest, read_actions(raw_dir)


@pytest.fixture(scope="module")
def clean(dataset: tuple[Path, dict, pd.DataFrame]) -> pd.DataFrame:
    """The rows without any defect, with parsed times."""
    _, _, actions = dataset
    rows = actions[~detect_dirt(actions).any(axis=1)].copy()
    rows["time"] = pd.to_datetime(rows["action_time"])
    rows["user_id"] = rows["user_id"].astype("int64")
    rows["city_id"] = rows["city_id"].astype("int64")
    return rows


@pytest.fixture(scope="module")
def sessions(clean: pd.DataFrame) -> pd.DataFrame:
    """Per session: first and last time, number of actions, first page, dates touched."""
    ordered = clean.sort_values(["session_id", "time", "page_id"])
    grouped = ordered.groupby("session_id")
    return pd.DataFrame(
        {
            "start": grouped["time"].min(),
            "visit_seconds": (grouped["time"].max() - grouped["time"].min()).dt.total_seconds(),
            "steps": grouped.size(),
            "first_page": grouped["page_id"].first(),
            "dates": grouped["date"].nunique(),
        }
    )


def test_files_have_exactly_the_contract_schema(dataset: tuple[Path, dict, pd.DataFrame]) -> None:
    raw_dir, manifest, _ = dataset
    partitions = sorted(path.name for path in (raw_dir / "user_visit_action").iterdir())
    assert partitions == ["date=2026-11-16", "date=2026-11-17", "date=2026-11-18"]
    expected = pa.schema(
        [
            ("user_id", pa.int64()),
            ("session_id", pa.string()),
            ("page_id", pa.int64()),
            ("action_time", pa.string()),
            ("search_keyword", pa.string()),
            ("click_category_id", pa.int64()),
            ("click_product_id", pa.int64()),
            *[(column, pa.string()) for column in LIST_COLUMNS],
            ("city_id", pa.int64()),
        ]
    )
    for partition in partitions:
        files = list((raw_dir / "user_visit_action" / partition).iterdir())
        assert [path.name for path in files] == ["part-00000.parquet"]
        assert pq.read_schema(files[0]).remove_metadata() == expected
    users = pq.read_schema(raw_dir / "user_info" / "part-00000.parquet").remove_metadata()
    assert users == pa.schema(
        [
            ("user_id", pa.int64()),
            ("username", pa.string()),
            ("name", pa.string()),
            ("age", pa.int32()),
            ("professional", pa.string()),
            ("city", pa.string()),
            ("sex", pa.string()),
        ]
    )
    assert manifest["status"] == "complete"
    assert manifest["datasets"]["user_info"]["rows"] == 300


def test_manifest_counts_rows_per_day(dataset: tuple[Path, dict, pd.DataFrame]) -> None:
    _, manifest, actions = dataset
    per_day = actions.groupby("date").size().to_dict()
    assert manifest["datasets"]["user_visit_action"]["rows_per_day"] == per_day
    assert manifest["datasets"]["user_visit_action"]["rows"] == len(actions)
    assert manifest["parameters"]["seed"] == 42
    assert manifest["skew"] is None


def test_dirt_counts_match_an_independent_detector(
    dataset: tuple[Path, dict, pd.DataFrame],
) -> None:
    _, manifest, actions = dataset
    found = detect_dirt(actions)
    assert found.sum(axis=1).max() == 1, "a dirty row carries more than one defect"
    expected = {kind: int(found[column].sum()) for kind, column in DIRT_COLUMNS.items()}
    assert manifest["dirty_rows"] == expected
    for day, counts in manifest["dirty_rows_per_day"].items():
        on_day = found[actions["date"] == day]
        assert counts == {kind: int(on_day[column].sum()) for kind, column in DIRT_COLUMNS.items()}
    assert min(expected.values()) > 0
    dirty_share = sum(expected.values()) / len(actions)
    assert dirty_share == pytest.approx(0.03, abs=0.002)


def test_dirt_takes_every_documented_shape(dataset: tuple[Path, dict, pd.DataFrame]) -> None:
    _, _, actions = dataset
    found = detect_dirt(actions)
    times = actions.loc[found["bad_time"], "action_time"]
    assert (times == "").any()
    assert times.str.fullmatch(r"\d{4}-\d{2}-\d{2} (2[4-9]):\d{2}:\d{2}").any()
    assert times.str.fullmatch(r"[^\d]+").any()
    cities = actions.loc[found["bad_city"], "city_id"]
    assert cities.isna().any() and (cities > 9).any()
    lists = pd.concat([actions.loc[found["bad_list"], column] for column in LIST_COLUMNS])
    lists = lists.dropna()
    lists = lists[~lists.map(lambda text: bool(ID_LIST.fullmatch(text)))]
    assert lists.str.contains(",,").any()
    assert lists.str.contains(";").any()
    assert lists.str.endswith(",").any()
    assert lists.str.fullmatch(r"[a-z]+(,[a-z]+)*").any()


def test_every_clean_action_is_exactly_one_kind(clean: pd.DataFrame) -> None:
    search = clean["search_keyword"].notna()
    click = clean["click_product_id"] != -1
    order = clean["order_product_ids"].notna()
    pay = clean["pay_product_ids"].notna()
    assert ((search.astype(int) + click + order + pay) == 1).all()
    assert (clean["order_category_ids"].notna() == order).all()
    assert (clean["pay_category_ids"].notna() == pay).all()
    assert ((clean["click_category_id"] != -1) == click).all()
    assert clean.loc[search, "search_keyword"].isin(catalog.KEYWORDS).all()
    assert clean.loc[search, "search_keyword"].nunique() == len(catalog.KEYWORDS)
    for kind in (search, click, order, pay):
        assert kind.mean() > 0.05


def test_ids_are_in_range_and_consistent_with_the_category_mapping(clean: pd.DataFrame) -> None:
    clicks = clean[clean["click_product_id"] != -1]
    assert clicks["click_product_id"].between(0, 99).all()
    expected = (clicks["click_product_id"] % 10) * 5 + clicks["click_product_id"] // 20
    assert (clicks["click_category_id"] == expected).all()
    for prefix in ("order", "pay"):
        rows = clean[clean[f"{prefix}_product_ids"].notna()]
        lengths = set()
        for products_text, categories_text in zip(
            rows[f"{prefix}_product_ids"], rows[f"{prefix}_category_ids"], strict=True
        ):
            products = ids(products_text)
            lengths.add(len(products))
            assert len(set(products)) == len(products)
            assert all(0 <= product <= 99 for product in products)
            categories = [(product % 10) * 5 + product // 20 for product in products]
            assert ids(categories_text) == list(dict.fromkeys(categories))
        assert lengths == {1, 2, 3}
    assert clean["page_id"].between(1, 10).all()
    assert clean["city_id"].between(0, 9).all()
    assert clean["user_id"].between(0, 299).all()
    assert clean["session_id"].str.fullmatch(r"[0-9a-f]{32}").all()


def test_times_are_within_the_generated_days_and_match_the_partition(clean: pd.DataFrame) -> None:
    assert (clean["time"].dt.strftime("%Y-%m-%d") == clean["date"]).all()
    assert clean["time"].min() >= START
    assert clean["time"].max() < START + pd.Timedelta(days=3)


def test_visit_and_step_lengths_reach_every_spec_bucket(sessions: pd.DataFrame) -> None:
    visits = pd.cut(sessions["visit_seconds"], VISIT_BUCKETS).value_counts()
    steps = pd.cut(sessions["steps"], STEP_BUCKETS).value_counts()
    assert (visits > 0).all(), visits
    assert (steps > 0).all(), steps
    assert (sessions["steps"] > 60).sum() >= 3
    assert sessions["steps"].mean() == pytest.approx(10, rel=0.1)


def test_sessions_follow_the_diurnal_curve_and_cross_midnight(sessions: pd.DataFrame) -> None:
    hours = sessions["start"].dt.hour.value_counts()
    assert hours[[2, 3, 4]].sum() * 4 < hours[[19, 20, 21]].sum()
    assert (sessions["dates"] == 2).sum() > 0
    assert (sessions["start"].dt.second.nunique()) == 60


def test_page_walks_mostly_move_to_the_next_page(
    clean: pd.DataFrame, sessions: pd.DataFrame
) -> None:
    ordered = clean.sort_values(["session_id", "time", "page_id"])
    same_session = ordered["session_id"].to_numpy()[1:] == ordered["session_id"].to_numpy()[:-1]
    pages = ordered["page_id"].to_numpy()
    to_next = (pages[1:] == pages[:-1] % 10 + 1)[same_session]
    assert 0.5 < to_next.mean() < 0.8
    assert (sessions["first_page"] == 1).mean() > 0.4


def test_products_are_zipf_popular(clean: pd.DataFrame) -> None:
    clicked = clean.loc[clean["click_product_id"] != -1, "click_product_id"]
    shares = clicked.value_counts(normalize=True)
    assert shares.iloc[0] > 5 * shares.median()
    assert clicked.nunique() > 80


def test_users_and_seeds_agree_with_the_catalog(dataset: tuple[Path, dict, pd.DataFrame]) -> None:
    raw_dir, _, _ = dataset
    users = pq.read_table(raw_dir / "user_info").to_pandas()
    with (SEEDS / "city_info.csv").open() as handle:
        seed_cities = [row["city_name"] for row in csv.DictReader(handle)]
    with (SEEDS / "product_info.csv").open() as handle:
        seed_products = [int(row["product_id"]) for row in csv.DictReader(handle)]
    assert list(catalog.CITY_NAMES) == seed_cities
    assert seed_products == list(range(catalog.N_PRODUCTS))
    assert list(users["user_id"]) == list(range(300))
    assert users["username"].is_unique
    assert users["age"].between(10, 65).all()
    assert set(users["sex"]) == {"male", "female"}
    assert users["city"].isin(seed_cities).all()
    assert users["professional"].nunique() == len(catalog.PROFESSIONS)
    assert (users.loc[users["age"] < 18, "professional"] == "Student").all()


def _file_digests(raw_dir: Path) -> dict[str, str]:
    return {
        str(path.relative_to(raw_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(raw_dir.rglob("*.parquet"))
    }


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    config = replace(SMALL, days=2, sessions_per_day=200, skew_kind="user")
    first, first_manifest = run(tmp_path / "a", config)
    second, second_manifest = run(tmp_path / "b", config)
    other, _ = run(tmp_path / "c", replace(config, seed=7))
    assert _file_digests(first) == _file_digests(second)
    assert len(_file_digests(first)) == 3
    for manifest in (first_manifest, second_manifest):
        del manifest["parameters"]["raw_dir"], manifest["parameters"]["ad_click_dir"]
    assert first_manifest == second_manifest
    assert set(_file_digests(other).values()).isdisjoint(_file_digests(first).values())


def test_a_day_does_not_depend_on_the_days_after_it(tmp_path: Path) -> None:
    short, _ = run(tmp_path / "short", replace(SMALL, days=1, sessions_per_day=200))
    long, _ = run(tmp_path / "long", replace(SMALL, days=2, sessions_per_day=200))
    day = "user_visit_action/date=2026-11-16/part-00000.parquet"
    assert (short / day).read_bytes() == (long / day).read_bytes()


@pytest.mark.parametrize("kind", ["category", "product", "user"])
def test_skew_gives_the_hot_key_its_share(tmp_path: Path, kind: str) -> None:
    config = replace(SMALL, days=2, dirt_share=0.0, skew_kind=kind, skew_share=0.3)
    raw_dir, manifest = run(tmp_path, config)
    actions = read_actions(raw_dir)
    hot = manifest["skew"]["hot_key"]
    assert manifest["skew"] == {"kind": kind, "share": 0.3, "hot_key": hot}
    if kind == "user":
        touched = actions["user_id"] == hot
    else:
        column = f"{kind}_id"
        keys = (
            pd.concat(
                [
                    actions[f"click_{column}"]
                    .where(actions["click_product_id"] != -1)
                    .astype("Int64")
                ]
                + [actions[f"{prefix}_{column}s"].str.split(",") for prefix in ("order", "pay")]
            )
            .explode()
            .dropna()
        )
        keys = keys.astype(int).groupby(level=0).agg(set)
        touched = keys.map(lambda ids_of_action: hot in ids_of_action)
    assert touched.mean() == pytest.approx(0.3, abs=0.02)


def test_the_start_date_moves_every_partition(tmp_path: Path) -> None:
    raw_dir, _ = run(
        tmp_path, replace(SMALL, days=2, sessions_per_day=50, start_date=date(2027, 2, 28))
    )
    partitions = sorted(path.name for path in (raw_dir / "user_visit_action").iterdir())
    assert partitions == ["date=2027-02-28", "date=2027-03-01"]
