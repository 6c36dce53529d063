"""Page-flow matching: the jumps of the task's target page flow, counted per step (SPEC 3).

Over ALL sessions with actions in the task's date range (no user filters). A session's actions
are ordered by `action_time`, ties by `page_id`, and each pair of consecutive actions is a jump
a -> b. One row per step k of the flow p1..pn: the jumps p_k -> p_(k+1), and the actions on p_k
(the base of step 1). The jumps come from int_sessions_sliced, which holds each session's pages
in action order (`page_ids`, in-range actions only): pairing neighbours there needs no second
shuffle of the actions by session. DataFrame operations only: array functions, a broadcast semi
join and aggregates; which jumps a flow asks for comes from python_udfs.page_flow.
"""

from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StructField, StructType

from python_udfs.page_flow import flow_steps

STEPS_SCHEMA = StructType(
    [
        StructField("step", IntegerType(), nullable=False),
        StructField("from_page_id", LongType(), nullable=False),
        StructField("to_page_id", LongType(), nullable=False),
    ]
)
PAIR = ["from_page_id", "to_page_id"]
# each page with the next one of its session: (p1, p2), (p2, p3), ... for pages p1..pn
NEIGHBOURS = (
    "zip_with(slice(page_ids, 1, size(page_ids) - 1), slice(page_ids, 2, size(page_ids) - 1),"
    " (from_page, to_page) -> named_struct('from_page_id', from_page, 'to_page_id', to_page))"
)


def model(dbt, session):
    dbt.config(materialized="table")

    task = dbt.ref("int_task_parameters").first()
    sessions = dbt.ref("int_sessions_sliced").select("page_ids")

    steps = session.createDataFrame(
        [(s.step, s.from_page_id, s.to_page_id) for s in flow_steps(task.target_page_flow)],
        STEPS_SCHEMA,
    )
    flow_pages = sorted({int(page) for page in task.target_page_flow})

    jumps = sessions.select(F.explode(F.expr(NEIGHBOURS)).alias("jump")).select("jump.*")
    jump_counts = (
        jumps.join(F.broadcast(steps.select(*PAIR).distinct()), PAIR, "left_semi")
        .groupBy(*PAIR)
        .agg(F.count(F.lit(1)).alias("jump_count"))
    )
    page_actions = (
        sessions.select(F.explode("page_ids").alias("from_page_id"))
        .where(F.col("from_page_id").isin(flow_pages))
        .groupBy("from_page_id")
        .agg(F.count(F.lit(1)).alias("from_page_actions"))
    )

    return (
        steps.join(jump_counts, PAIR, "left")
        .join(page_actions, "from_page_id", "left")
        .select(
            "step",
            "from_page_id",
            "to_page_id",
            F.coalesce("from_page_actions", F.lit(0)).alias("from_page_actions"),
            F.coalesce("jump_count", F.lit(0)).alias("jump_count"),
        )
    )
