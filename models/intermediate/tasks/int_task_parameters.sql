{{ config(materialized='view') }}

{#-
    The current task's parameters (SPEC 2) as one typed row, after task_params() checked them.
    Python models read their parameters from here.
-#}
{%- set task = task_params() -%}

with

final as (
    select
        {{ sql_value(task.task_id, 'string') }} as task_id,
        {{ sql_value(task.sex, 'string') }} as sex,
        {{ sql_value(task.funnel_order, 'string') }} as funnel_order,
        {{ sql_value(task.funnel_unit, 'string') }} as funnel_unit,
        {{ sql_array(task.professionals, 'string') }} as professionals,
        {{ sql_array(task.cities, 'string') }} as cities,
        {{ sql_array(task.keywords, 'string') }} as keywords,
        {{ sql_array(task.category_ids, 'bigint') }} as category_ids,
        {{ sql_array(task.target_page_flow, 'bigint') }} as target_page_flow,
        {{ sql_array(task.funnel_steps | map(attribute='name') | list, 'string') }} as funnel_steps,
        {{ sql_value(task.start_age, 'int') }} as start_age,
        {{ sql_value(task.end_age, 'int') }} as end_age,
        {{ sql_value(task.extract_sessions, 'int') }} as extract_sessions,
        {{ sql_value(task.random_seed, 'bigint') }} as random_seed,
        {{ sql_value(task.funnel_window_seconds, 'int') }} as funnel_window_seconds,
        {{ sql_value(task.start_date, 'date') }} as start_date,
        {{ sql_value(task.end_date, 'date') }} as end_date
)

select * from final
