{#-
    The category events of the task (SPEC 3): one row per category an action of a matching
    session touched within the task's date range. A click counts its clicked category; an order
    or a pay counts every id of its category list (an id listed twice counts twice).
-#}
{#-
    Without user, keyword or category filters every session with actions in the date range
    matches, so the actions are not joined to int_sessions_matched (a shuffle of every action
    that would keep them all).
-#}
{%- set task = task_params() -%}
{%- set filtered = task_filters_sessions(task) %}

with

actions as (
    select * from {{ ref('stg_ecom__user_visit_actions') }}
    where {{ all_of(in_task_date_range('action_date', task)) }}
),

-- read only when the task filters sessions (Spark drops an unused CTE)
sessions as (  -- noqa: ST03
    select * from {{ ref('int_sessions_matched') }}
),

session_actions as (
    select * from actions
    {%- if filtered %}
        where session_id in (select sessions.session_id from sessions)
    {%- endif %}
),

clicks as (
    select
        session_id,
        click_category_id as category_id,
        'click' as action_type
    from session_actions
    where click_category_id is not null
),

orders as (
    select
        session_id,
        {{ unnest_array('order_category_ids') }} as category_id,
        'order' as action_type
    from session_actions
    where order_category_ids is not null
),

pays as (
    select
        session_id,
        {{ unnest_array('pay_category_ids') }} as category_id,
        'pay' as action_type
    from session_actions
    where pay_category_ids is not null
),

final as (
    select * from clicks
    union all
    select * from orders
    union all
    select * from pays
)

select * from final
