{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['action_date'],
        on_schema_change='fail',
    )
}}

{#-
    SPEC 3: per day and area, the 3 products with most clicks (ties: product_id ascending).
    Incremental by day (macros/incremental/day_window.sql): a run reads the click facts of its
    window's days and rewrites only their `action_date` partitions. A clicked product missing
    from product_info keeps its rank, with null name and status.
-#}
{%- set clicks = ref('int_product_clicks_enriched') -%}

with

clicks as (
    select * from {{ clicks }}
    where {{ day_window_filter(clicks, 'action_date') }}
),

products as (
    select * from {{ ref('product_info') }}
),

city_product_clicks as (
    -- two-stage aggregation: counting per city first leaves the city list of each product a
    -- handful of rows to collect, not one per click (docs/performance.md)
    select
        action_date,
        area,
        product_id,
        city_id,
        city_name,
        count(*) as click_count
    from clicks
    group by action_date, area, product_id, city_id, city_name
),

area_product_clicks as (
    select
        action_date,
        area,
        product_id,
        sum(click_count) as click_count,
        {{ join_distinct_sorted("concat(city_id, ':', city_name)", 'city_id') }} as city_infos
    from city_product_clicks
    group by action_date, area, product_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by action_date, area
            order by click_count desc, product_id asc
        ) as rank
    from area_product_clicks
),

final as (
    select
        ranked.action_date,
        ranked.area,
        {{ area_level('ranked.area') }} as area_level,
        ranked.rank,
        ranked.product_id,
        products.product_name,
        {{ product_status('products.extend_info') }} as product_status,
        ranked.click_count,
        ranked.city_infos
    from ranked
    left join products
        on ranked.product_id = products.product_id
    where ranked.rank <= 3
)

select * from final
