{#-
    Raw actions that break the contract of SPEC 1.1, as they came, with the reason: the rows
    base_ecom__user_visit_actions_triaged did not keep (those that break a rule on their own,
    and the extra copies of a clean action, as `duplicate`). A view; rows whose raw `date`
    does not parse have a null `action_date`.
-#}

with

triaged as (
    select * from {{ ref('base_ecom__user_visit_actions_triaged') }}
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
    from triaged
    where quarantine_reason is not null
)

select * from final
