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
-#}
{%- set actions = ref('base_ecom__user_visit_actions') -%}

with

validated as (
    select * from {{ actions }}
    where {{ day_window_filter(actions, parse_date('raw_date'), include_undated=true) }}
),

final as (
    select
        quarantine_reason,
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
    from validated
    where quarantine_reason is not null
)

select * from final
