{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['action_date'],
        on_schema_change='fail',
    )
}}

{#-
    Every raw action once, either kept or quarantined: the clean actions with their typed
    columns, and the rows that break the contract (SPEC 1.1) with the reason and their raw
    text. stg_ecom__user_visit_actions and stg_ecom__quarantined_actions are views that split
    it, so the raw rows are read, typed and checked once for both.

    Exact copies are found without shuffling the rows: identical raw rows share their
    `raw_row_hash`, so one aggregation of that number finds the few values that came more than
    once (with their count and the smallest of their copies' `raw_row_key`, the row's place in
    the files), and a broadcast join keeps, of each such set, only the copy at that place; the
    other copies are quarantined as `duplicate`. Identical raw rows share their rule-breaking
    reason too, so a set of copies is either kept once or quarantined whole. Two different
    rows would be taken for copies only if their 64-bit hashes met (odds about 1 in 2^64 per
    pair), and then the second would be quarantined as `duplicate`, not lost.

    Incremental by day (macros/incremental/day_window.sql), partitioned by the parsed raw
    `date` (`action_date`): a run rebuilds its window's days and reads only those days' raw
    folders. Rows whose raw `date` does not parse have no day: they sit in the null partition,
    which every run rebuilds (they are read on every run), so they stay counted.
-#}
{%- set actions = ref('base_ecom__user_visit_actions') -%}
{%- set id_lists = [
    'order_category_ids', 'order_product_ids', 'pay_category_ids', 'pay_product_ids',
] -%}

with

validated as (
    select * from {{ actions }}
    where {{ day_window_filter(actions, parse_date('raw_date'), include_undated=true) }}
),

copies as (
    -- identical raw rows share their reason, so counting every row counts a clean row's copies
    select
        raw_row_hash,
        count(*) as raw_copies,
        min(raw_row_key) as kept_row_key
    from validated
    group by raw_row_hash
    having count(*) > 1
),

triaged as (
    select {{ broadcast_hint('copies') }}
        validated.*,
        coalesce(copies.raw_copies, 1) as raw_copies,
        coalesce(
            validated.quarantine_reason,
            case when validated.raw_row_key != copies.kept_row_key then 'duplicate' end
        ) as triage_reason
    from validated
    left join copies
        on validated.raw_row_hash = copies.raw_row_hash
),

final as (
    select
        triage_reason as quarantine_reason,
        -- the clean action (a quarantined row keeps only what parsed)
        session_id,
        user_id,
        page_id,
        city_id,
        case
            when search_keyword is not null then 'search'
            when click_category_id >= 0 or click_product_id >= 0 then 'click'
            when order_category_ids is not null or order_product_ids is not null then 'order'
            when pay_category_ids is not null or pay_product_ids is not null then 'pay'
            else 'view'
        end as action_type,
        search_keyword,
        case when click_category_id >= 0 then click_category_id end as click_category_id,
        case when click_product_id >= 0 then click_product_id end as click_product_id,
        -- a malformed list is not split (its row is quarantined)
        {%- for id_list in id_lists %}
            case when triage_reason is null then {{ split_id_list(id_list) }} end as {{ id_list }},
        {%- endfor %}
        raw_copies,
        -- for an action that came more than once: what its copies share and this copy's place
        case when raw_copies > 1 then raw_row_hash end as raw_row_hash,
        case when raw_copies > 1 then raw_row_key end as raw_row_key,
        -- a quarantined row as it came, as text (null for a clean one)
        {%- for column in source_action_columns() %}
            case when triage_reason is not null then raw_{{ column }} end as raw_{{ column }},
        {%- endfor %}
        action_time,
        action_date
    from triaged
)

select * from final
