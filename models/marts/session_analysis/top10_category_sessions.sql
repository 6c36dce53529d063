{#-
    For each of the task's top-10 categories, the ten matching sessions that clicked it most
    (SPEC 3; ties: lower session_id first). Only sessions with at least one click on the
    category appear, so a top category reached only through orders or payments has no rows.
-#}
{%- set task = task_params() -%}

with

categories as (
    select * from {{ ref('int_categories_ranked') }}
),

category_actions as (
    select * from {{ ref('int_category_actions_exploded') }}
),

top_categories as (
    select category_id from categories
    where category_rank <= 10
),

session_clicks as (
    select
        category_id,
        session_id,
        count(*) as click_count
    from category_actions
    where
        action_type = 'click'
        and category_id in (select top_categories.category_id from top_categories)
    group by category_id, session_id
),

ranked as (
    select
        category_id,
        row_number() over (
            partition by category_id
            order by click_count desc, session_id asc
        ) as session_rank,
        session_id,
        click_count
    from session_clicks
),

final as (
    select
        {{ sql_value(task.task_id, 'string') }} as task_id,
        category_id,
        cast(session_rank as int) as rank,
        session_id,
        click_count
    from ranked
    where session_rank <= 10
)

select * from final
