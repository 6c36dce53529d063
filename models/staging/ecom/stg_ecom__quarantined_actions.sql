{{ config(materialized='table') }}

{#- Raw actions that break the contract of SPEC 1.1, as they came, with the reason. -#}
with

validated as (
    select * from {{ ref('base_ecom__user_visit_actions') }}
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
