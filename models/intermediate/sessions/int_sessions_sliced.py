"""Session slicing: one row per session of the current task's date range.

Only the actions whose date lies in the task's range count (SPEC 3): a session's start, end,
visit length, steps, keywords, clicked categories and pages are those of its in-range actions.
One aggregation collects each session's actions once, sorted by time, then page (ties of both:
by keyword, then category); the first and last action, the step count and the ordered lists
are read off that array. The pages in action order (`page_ids`) let int_page_jumps_matched
count jumps without shuffling the actions by session a second time.
DataFrame operations only; the expressions come from python_udfs.sessions.
"""

from pyspark.sql import functions as F

from python_udfs.sessions import (
    DATE_HOUR_FORMAT,
    first_action_sql,
    first_appearances_sql,
    in_task_date_range,
    last_action_sql,
    sorted_actions_sql,
    values_in_order_sql,
)

ACTIONS = "actions"


def model(dbt, session):
    dbt.config(materialized="table")

    task = dbt.ref("int_task_parameters").first()
    actions = in_task_date_range(dbt.ref("stg_ecom__user_visit_actions"), task)

    sessions = actions.groupBy("session_id").agg(
        F.expr(sorted_actions_sql(["search_keyword", "click_category_id", "user_id"])).alias(
            ACTIONS
        )
    )
    start_time = F.expr(first_action_sql(ACTIONS, "action_time"))
    end_time = F.expr(last_action_sql(ACTIONS, "action_time"))
    return sessions.select(
        "session_id",
        F.expr(first_action_sql(ACTIONS, "user_id")).alias("user_id"),
        F.date_format(start_time, DATE_HOUR_FORMAT).alias("date_hour"),
        F.expr(first_appearances_sql(ACTIONS, "search_keyword")).alias("search_keywords"),
        F.expr(first_appearances_sql(ACTIONS, "click_category_id")).alias("click_category_ids"),
        F.expr(values_in_order_sql(ACTIONS, "page_id")).alias("page_ids"),
        F.timestamp_diff("second", start_time, end_time).alias("visit_length_seconds"),
        F.size(ACTIONS).cast("bigint").alias("step_length"),
        F.to_date(start_time).alias("start_date"),
        start_time.alias("start_time"),
        end_time.alias("end_time"),
    )
