{#-
    The events of the task's funnel (SPEC 3, funnel_conversion): the actions of the task's
    matching sessions in its date range, each with the steps it matches (`step_mask`) and the
    columns that order a unit's events. In `ordered` mode only the actions that match a step:
    the others cannot change which events an attempt takes. In `strict` mode every action,
    since one that matches no step between two steps breaks the attempt.

    A view: int_funnel_units_converted reads the actions once, through it. Without user,
    keyword or category filters every session with actions in the date range matches, so the
    actions are not joined to int_sessions_matched.
-#}
{{ config(materialized='view') }}
{%- set task = task_params() -%}
{%- set filtered = task_filters_sessions(task) -%}
{%- set ordered = task.funnel_order == 'ordered' %}

with

actions as (
    select * from {{ ref('stg_ecom__user_visit_actions') }}
    where {{ all_of(in_task_date_range('action_date', task)) }}
),

-- read only when the task filters sessions (Spark drops an unused CTE)
sessions as (  -- noqa: ST03
    select * from {{ ref('int_sessions_matched') }}
),

matched_actions as (
    select
        session_id,
        user_id,
        page_id,
        city_id,
        search_keyword,
        click_category_id,
        click_product_id,
        -- the id lists as their text (SPEC 1.1), for the order of events
        array_join(cast(order_category_ids as array<string>), ',') as order_category_list,
        array_join(cast(order_product_ids as array<string>), ',') as order_product_list,
        array_join(cast(pay_category_ids as array<string>), ',') as pay_category_list,
        array_join(cast(pay_product_ids as array<string>), ',') as pay_product_list,
        {{ funnel_step_mask(task.funnel_steps) }} as step_mask,
        action_date,
        action_time
    from actions
    {%- if filtered %}
        where session_id in (select sessions.session_id from sessions)
    {%- endif %}
),

final as (
    select * from matched_actions
    {%- if ordered %}
        where step_mask != 0
    {%- endif %}
)

select * from final
