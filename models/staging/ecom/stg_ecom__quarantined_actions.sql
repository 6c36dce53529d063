{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['action_date'],
        on_schema_change='fail',
    )
}}

{#-
    Raw actions that break the contract of SPEC 1.1, as they came, with the reason.
    Incremental by day like stg_ecom__user_visit_actions, partitioned by the parsed raw `date`
    (`action_date`). Rows whose raw `date` does not parse have no day: they sit in the null
    partition, which every run rebuilds (they are read on every run), so they stay counted.

    Two kinds of rows: those that break a rule on their own (base_ecom__user_visit_actions says
    which), and the extra exact copies of a clean action. The copies are not found by numbering
    every raw row again: stg_ecom__user_visit_actions counted them (`raw_copies`), so one pass
    over the raw rows keeps the broken ones and those of the few actions that came more than
    once; only these are numbered, and the copies after the first are quarantined as
    `duplicate`.
-#}
{%- set actions = ref('base_ecom__user_visit_actions') -%}
{%- set clean_actions = ref('stg_ecom__user_visit_actions') -%}
{%- set copies = 'partition by ' ~ raw_action_columns() | join(', ') -%}
{#- one window for both inputs: in a daily run without vars, one query for the newest raw day -#}
{%- set days = day_window_bounds(actions, parse_date('raw_date'), include_undated=true) -%}

with

validated as (
    select * from {{ actions }}
    where {{ day_window_predicate(days, parse_date('raw_date'), include_undated=true) }}
),

copied_actions as (
    -- the clean actions of the same days that came more than once (their keys, once each)
    select distinct
        action_date,
        session_id,
        action_time,
        page_id,
        user_id
    from {{ clean_actions }}
    where
        raw_copies > 1
        and {{ day_window_predicate(days, 'action_date') }}
),

candidates as (
    -- one pass over the raw rows: those that break a rule, and every passing row of an action
    -- that came more than once (its copies, and any row that only shares its keys)
    select {{ broadcast_hint('copied_actions') }} validated.*
    from validated
    left join copied_actions
        on
            validated.action_date = copied_actions.action_date
            and validated.session_id = copied_actions.session_id
            and validated.action_time = copied_actions.action_time
            and validated.page_id = copied_actions.page_id
            and validated.user_id = copied_actions.user_id
    where
        validated.quarantine_reason is not null
        or copied_actions.action_date is not null
),

numbered as (
    -- identical raw rows share their reason, so a broken row's copies number among themselves
    select
        *,
        row_number() over ({{ copies }} order by raw_action_time) as copy_number
    from candidates
),

final as (
    select
        coalesce(quarantine_reason, 'duplicate') as quarantine_reason,
        raw_date,
        raw_user_id,
        raw_session_id,
        raw_page_id,
        raw_action_time,
        raw_search_keyword,
        raw_click_category_id,
        raw_click_product_id,
        raw_order_category_ids,
        raw_order_product_ids,
        raw_pay_category_ids,
        raw_pay_product_ids,
        raw_city_id,
        action_date
    from numbered
    where quarantine_reason is not null or copy_number > 1
)

select * from final
