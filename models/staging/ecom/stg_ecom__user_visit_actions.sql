{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['action_date'],
        on_schema_change='fail',
    )
}}

{#-
    The clean actions, one row each, typed and categorised; id lists become arrays.
    Incremental by day (macros/incremental/day_window.sql): a run rebuilds the `action_date`
    partitions of its window and reads only those days' raw folders. A clean row's raw `date`
    is its `action_date`, and copies share their `date`, so the days are independent.

    Exact copies are found without shuffling the rows: identical raw rows share their
    `raw_row_hash`, so one aggregation of that number finds the few values that came more than
    once (with their count and the smallest of their copies' `raw_row_key`, the row's place in
    the files), and a broadcast join keeps, of each such set, only the copy at that place. The
    count goes to `raw_copies`, and for such an action the hash and the kept copy's key stay
    too, from which stg_ecom__quarantined_actions quarantines exactly the other copies. Two
    different rows would be taken for copies only if their 64-bit hashes met (odds about 1 in
    2^64 per pair), and then the second would be quarantined as `duplicate`, not lost.
-#}
{%- set actions = ref('base_ecom__user_visit_actions') -%}

with

validated as (
    select * from {{ actions }}
    where {{ day_window_filter(actions, parse_date('raw_date')) }}
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

clean as (
    select {{ broadcast_hint('copies') }}
        validated.*,
        coalesce(copies.raw_copies, 1) as raw_copies
    from validated
    left join copies
        on validated.raw_row_hash = copies.raw_row_hash
    where
        validated.quarantine_reason is null
        and (copies.kept_row_key is null or validated.raw_row_key = copies.kept_row_key)
),

final as (
    select
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
        {{ split_id_list('order_category_ids') }} as order_category_ids,
        {{ split_id_list('order_product_ids') }} as order_product_ids,
        {{ split_id_list('pay_category_ids') }} as pay_category_ids,
        {{ split_id_list('pay_product_ids') }} as pay_product_ids,
        raw_copies,
        -- for an action that came more than once: what its copies share and the copy kept
        case when raw_copies > 1 then raw_row_hash end as raw_row_hash,
        case when raw_copies > 1 then raw_row_key end as raw_row_key,
        action_time,
        action_date
    from clean
)

select * from final
