{#-
    The sessions of the task (SPEC 3): sessions with actions in the task's date range (that is
    int_sessions_sliced) whose user passes the age, profession, city and sex filters, with a
    searched keyword among `keywords` and a clicked category among `category_ids` when given.
    Without user filters a session matches even when its user is missing from user_info; any
    user filter needs a known user who passes it.

    A view: its readers (the session-analysis marts, and int_category_actions_exploded when the
    task filters sessions) read the sliced sessions through it, so the top-10 chain does not
    wait for a table of its own to be written (docs/performance.md, tuning log). The users are
    joined only when a user filter needs them.
-#}
{{ config(materialized='view') }}
{%- set task = task_params() -%}
{%- set joins_users = task_filters_users(task) -%}
{%- set conditions = [] -%}
{%- if task.start_age is not none -%}
    {%- do conditions.append('age >= ' ~ sql_value(task.start_age, 'int')) -%}
{%- endif -%}
{%- if task.end_age is not none -%}
    {%- do conditions.append('age <= ' ~ sql_value(task.end_age, 'int')) -%}
{%- endif -%}
{%- if task.professionals -%}
    {%- do conditions.append(array_has(sql_array(task.professionals, 'string'), 'professional')) -%}
{%- endif -%}
{%- if task.cities -%}
    {%- do conditions.append(array_has(sql_array(task.cities, 'string'), 'city')) -%}
{%- endif -%}
{%- if task.sex is not none -%}
    {%- do conditions.append('sex = ' ~ sql_value(task.sex, 'string')) -%}
{%- endif -%}
{%- if task.keywords -%}
    {%- do conditions.append(
        arrays_share_value('search_keywords', sql_array(task.keywords, 'string'))
    ) -%}
{%- endif -%}
{%- if task.category_ids -%}
    {%- do conditions.append(
        arrays_share_value('click_category_ids', sql_array(task.category_ids, 'bigint'))
    ) -%}
{%- endif -%}

with

sessions as (
    select * from {{ ref('int_sessions_sliced') }}
),

-- read only when a user filter is set (Spark drops an unused CTE)
users as (  -- noqa: ST03
    select * from {{ ref('stg_ecom__users') }}
),

sessions_with_users as (
    {%- if joins_users %}
        select
            sessions.*,
            users.professional,
            users.city,
            users.sex,
            users.age
        from sessions
        left join users
            on sessions.user_id = users.user_id
    {%- else %}
        select * from sessions
    {%- endif %}
),

matched as (
    select * from sessions_with_users
    where {{ all_of(conditions) }}
),

final as (
    select
        session_id,
        user_id,
        date_hour,
        search_keywords,
        click_category_ids,
        visit_length_seconds,
        step_length,
        start_date,
        start_time,
        end_time
    from matched
)

select * from final
