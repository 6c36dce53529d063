"""Session slicing: one row per session of the current task's date range.

Only the actions whose date lies in the task's range count (SPEC 3): a session's start, end,
visit length, steps, keywords, clicked categories and pages are those of its in-range actions.
The pages in action order (`page_ids`) let int_page_jumps_matched count jumps without shuffling
the actions by session a second time.
DataFrame operations only; the ordering logic lives in python_udfs.sessions.
"""

from pyspark.sql import functions as F

from python_udfs.sessions import (
    ACTION_ORDER,
    DATE_HOUR_FORMAT,
    first_appearance_sql,
    in_action_order_sql,
    in_task_date_range,
)


def model(dbt, session):
    dbt.config(materialized="table")

    task = dbt.ref("int_task_parameters").first()
    actions = in_task_date_range(dbt.ref("stg_ecom__user_visit_actions"), task)

    first_action = F.struct(*ACTION_ORDER)
    sessions = actions.groupBy("session_id").agg(
        F.min_by("user_id", first_action).alias("user_id"),
        F.min("action_time").alias("start_time"),
        F.max("action_time").alias("end_time"),
        F.count(F.lit(1)).alias("step_length"),
        F.expr(first_appearance_sql("search_keyword")).alias("search_keywords"),
        F.expr(first_appearance_sql("click_category_id")).alias("click_category_ids"),
        F.expr(in_action_order_sql("page_id")).alias("page_ids"),
    )
    return sessions.select(
        "session_id",
        "user_id",
        F.date_format("start_time", DATE_HOUR_FORMAT).alias("date_hour"),
        "search_keywords",
        "click_category_ids",
        "page_ids",
        F.expr("timestampdiff(second, start_time, end_time)").alias("visit_length_seconds"),
        "step_length",
        F.to_date("start_time").alias("start_date"),
        "start_time",
        "end_time",
    )
