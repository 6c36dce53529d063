{#-
    Fails when the current task's rows in the model (a task-keyed extract) are not exactly
    min(extract_sessions, rows of `population`), the task's matching sessions.
-#}
{% test task_extract_size_matches(model, population) %}
{%- set task = task_params() -%}

with

extracted as (
    select count(*) as extracted_rows from {{ model }}
    where task_id = {{ sql_value(task.task_id, 'string') }}
),

matching as (
    select count(*) as matching_rows from {{ population }}
),

final as (
    select
        extracted.extracted_rows,
        matching.matching_rows,
        {{ sql_value(task.extract_sessions, 'bigint') }} as extract_sessions
    from extracted
    cross join matching
    where
        extracted.extracted_rows
        != least({{ sql_value(task.extract_sessions, 'bigint') }}, matching.matching_rows)
)

select * from final

{% endtest %}
