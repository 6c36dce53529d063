"""The dashboards' Streamlit entry point: `streamlit run` this file (or `ecom dashboard`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from ecom_analytics.dashboard.views import ads, area, categories, funnel, funnels, sessions
from ecom_analytics.dashboard.views.common import source_caption


@dataclass(frozen=True)
class PageSpec:
    """One page: its sidebar section, render function, title, URL path and icon."""

    section: str
    render: Callable[[], None]
    title: str
    url_path: str
    icon: str


# The pages in sidebar order; the first is the start page (served at `/`). (A comment, not a
# docstring: Streamlit would print a bare string of the main script on the page.)
PAGES = (
    PageSpec(
        "Offline marts, per task",
        sessions.lengths,
        "Session lengths",
        "session-lengths",
        ":material/bar_chart:",
    ),
    PageSpec(
        "Offline marts, per task",
        sessions.extract,
        "Session extract",
        "session-extract",
        ":material/shuffle:",
    ),
    PageSpec(
        "Offline marts, per task",
        categories.render,
        "Top categories",
        "top-categories",
        ":material/category:",
    ),
    PageSpec(
        "Offline marts, per task", funnel.render, "Page flow", "page-flow", ":material/route:"
    ),
    PageSpec(
        "Offline marts, per task", funnels.render, "Funnel", "funnel", ":material/filter_alt:"
    ),
    PageSpec("Daily", area.render, "Area top 3", "area-top3", ":material/map:"),
    PageSpec("Real time", ads.render, "Live ad clicks", "live-ads", ":material/bolt:"),
)


def navigation() -> dict[str, list[st.Page]]:
    """The pages grouped by sidebar section, for `st.navigation`."""
    sections: dict[str, list[st.Page]] = {}
    for index, spec in enumerate(PAGES):
        page = st.Page(
            spec.render,
            title=spec.title,
            url_path=spec.url_path,
            icon=spec.icon,
            default=index == 0,
        )
        sections.setdefault(spec.section, []).append(page)
    return sections


def main() -> None:
    st.set_page_config(page_title="ecom_analytics", page_icon=":material/insights:", layout="wide")
    page = st.navigation(navigation())
    source_caption()
    page.run()


if __name__ == "__main__":
    main()
