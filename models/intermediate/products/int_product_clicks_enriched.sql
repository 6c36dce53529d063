{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['action_date'],
        on_schema_change='fail',
    )
}}

{#-
    The click fact: one row per clean action that clicked a product, with the city it came from
    and that city's area. Incremental by day (macros/incremental/day_window.sql): a run reads
    and rewrites only the `action_date` partitions of its window.
-#}
{%- set actions = ref('stg_ecom__user_visit_actions') -%}

with

actions as (
    select * from {{ actions }}
    where {{ day_window_filter(actions, 'action_date') }}
),

cities as (
    select * from {{ ref('city_info') }}
),

product_clicks as (
    select * from actions
    where click_product_id is not null
),

final as (
    select
        product_clicks.click_product_id as product_id,
        product_clicks.click_category_id as category_id,
        product_clicks.session_id,
        product_clicks.user_id,
        product_clicks.page_id,
        product_clicks.city_id,
        cities.city_name,
        cities.area,
        product_clicks.action_time,
        product_clicks.action_date
    from product_clicks
    -- staging quarantines actions from cities missing in city_info (`unknown_city`),
    -- so every click finds its city here
    inner join cities
        on product_clicks.city_id = cities.city_id
)

select * from final
