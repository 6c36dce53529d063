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
    is its `action_date`, and duplicates are found within a day, so the days are independent.

    Exact copies are numbered here, among the rows that pass every other rule (a broken row is
    quarantined for what breaks it, copies or not): the first copy is kept, with the number of
    copies in `raw_copies`, and stg_ecom__quarantined_actions quarantines the others from that
    count without numbering all rows again.
-#}
{%- set actions = ref('base_ecom__user_visit_actions') -%}
{#- Copies are rows with the same raw text. Instead of the 13 raw texts, the window is keyed by
    one hash of them (row_hash: 64 bits on Spark, nulls kept in place) next to the typed values,
    so the shuffle carries the typed columns only and the sort mostly compares one number; a
    hash collision could only join rows whose every typed value is the same too (odds about 1
    in 2^64). It leads with `action_date`, the order the day-partitioned write needs, so Spark
    does not sort the rows a second time to write them. -#}
{%- set copies = 'partition by ' ~ [
    'action_date', 'raw_row_hash', 'session_id', 'action_time', 'page_id', 'user_id', 'city_id',
    'search_keyword', 'click_category_id', 'click_product_id', 'order_category_ids',
    'order_product_ids', 'pay_category_ids', 'pay_product_ids',
] | join(', ') -%}

with

validated as (
    select * from {{ actions }}
    where {{ day_window_filter(actions, parse_date('raw_date')) }}
),

passed as (
    select
        *,
        {{ row_hash(raw_action_columns()) }} as raw_row_hash
    from validated
    where quarantine_reason is null
),

numbered as (
    select
        *,
        -- exact copies are identical, so which one is first does not matter
        row_number() over ({{ copies }} order by action_time) as copy_number,
        count(*) over ({{ copies }}) as raw_copies
    from passed
),

clean as (
    select * from numbered
    where copy_number = 1
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
        action_time,
        action_date
    from clean
)

select * from final
