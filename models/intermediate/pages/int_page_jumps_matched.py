"""Page-flow matching: the jumps of the task's target page flow, counted per step (SPEC 3).

Over ALL sessions with actions in the task's date range (no user filters). A session's actions
are ordered by `action_time`, ties by `page_id`, and each pair of consecutive actions is a jump
a -> b. One row per step k of the flow p1..pn: the jumps p_k -> p_(k+1), and the actions on p_k
(the base of step 1). The jumps come from int_sessions_sliced, which holds each session's pages
in action order (`page_ids`, in-range actions only): pairing neighbours there needs no second
shuffle of the actions by session. A flow asks for a handful of jumps and pages, so one
aggregation over the sessions sums, per session, how many of its jumps are each asked-for pair
and how many of its pages each asked-for page: no row per jump, no join, no shuffle. Which
jumps a flow asks for comes from python_udfs.page_flow.
"""

from pyspark.sql import functions as F

from python_udfs.page_flow import flow_steps

# each page with the next one of its session: (p1, p2), (p2, p3), ... for pages p1..pn
NEIGHBOURS = (
    "zip_with(slice(page_ids, 1, size(page_ids) - 1), slice(page_ids, 2, size(page_ids) - 1),"
    " (from_page, to_page) -> named_struct('from_page_id', from_page, 'to_page_id', to_page))"
)


def is_jump(from_page_id, to_page_id):
    """Predicate on a jump struct: it leaves `from_page_id` for `to_page_id`."""
    return lambda jump: (jump.from_page_id == from_page_id) & (jump.to_page_id == to_page_id)


def is_page(page_id):
    """Predicate on a page id: it is `page_id`."""
    return lambda page: page == page_id


def total(array_column, predicate, name):
    """Aggregate: over all sessions, the entries of `array_column` that meet `predicate` (0 when
    there is no session)."""
    return F.coalesce(F.sum(F.size(F.filter(array_column, predicate))), F.lit(0)).alias(name)


def model(dbt, session):
    dbt.config(materialized="table")

    task = dbt.ref("int_task_parameters").first()
    steps = flow_steps(task.target_page_flow)
    pairs = sorted({(step.from_page_id, step.to_page_id) for step in steps})
    pages = sorted({step.from_page_id for step in steps})
    jump_column = {pair: f"jumps_{index}" for index, pair in enumerate(pairs)}
    page_column = {page: f"actions_{index}" for index, page in enumerate(pages)}

    sessions = dbt.ref("int_sessions_sliced").select(F.expr(NEIGHBOURS).alias("jumps"), "page_ids")
    totals = sessions.agg(
        *(total("jumps", is_jump(*pair), name) for pair, name in jump_column.items()),
        *(total("page_ids", is_page(page), name) for page, name in page_column.items()),
    )
    rows = F.array(
        *(
            F.struct(
                F.lit(step.step).cast("int").alias("step"),
                F.lit(step.from_page_id).cast("bigint").alias("from_page_id"),
                F.lit(step.to_page_id).cast("bigint").alias("to_page_id"),
                F.col(page_column[step.from_page_id]).alias("from_page_actions"),
                F.col(jump_column[(step.from_page_id, step.to_page_id)]).alias("jump_count"),
            )
            for step in steps
        )
    )
    return totals.select(F.inline(rows))
