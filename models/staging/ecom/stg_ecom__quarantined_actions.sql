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
    which), and the copies of a clean action that stg_ecom__user_visit_actions did not keep. For
    an action that came more than once, that model keeps the `raw_row_hash` its copies share and
    the `raw_row_key` of the copy it kept; one pass over the raw rows with a broadcast join on
    that hash quarantines every other row of it as `duplicate`. The same hash and key decide in
    both models, so each passing raw row is either kept or quarantined here, never neither.
-#}
{%- set actions = ref('base_ecom__user_visit_actions') -%}
{%- set clean_actions = ref('stg_ecom__user_visit_actions') -%}
{#- one window for both inputs: in a daily run without vars, one query for the newest raw day -#}
{%- set days = day_window_bounds(actions, parse_date('raw_date'), include_undated=true) -%}

with

validated as (
    select * from {{ actions }}
    where {{ day_window_predicate(days, parse_date('raw_date'), include_undated=true) }}
),

kept_copies as (
    -- the clean actions of the same days that came more than once, and the copy kept of each
    select
        raw_row_hash,
        raw_row_key as kept_row_key
    from {{ clean_actions }}
    where
        raw_copies > 1
        and {{ day_window_predicate(days, 'action_date') }}
),

quarantined as (
    select {{ broadcast_hint('kept_copies') }}
        coalesce(validated.quarantine_reason, 'duplicate') as quarantine_reason,
        validated.raw_date,
        validated.raw_user_id,
        validated.raw_session_id,
        validated.raw_page_id,
        validated.raw_action_time,
        validated.raw_search_keyword,
        validated.raw_click_category_id,
        validated.raw_click_product_id,
        validated.raw_order_category_ids,
        validated.raw_order_product_ids,
        validated.raw_pay_category_ids,
        validated.raw_pay_product_ids,
        validated.raw_city_id,
        validated.action_date
    from validated
    left join kept_copies
        on validated.raw_row_hash = kept_copies.raw_row_hash
    where
        validated.quarantine_reason is not null
        or validated.raw_row_key != kept_copies.kept_row_key
),

final as (
    select * from quarantined
)

select * from final
