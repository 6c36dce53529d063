{#-
    The clean actions: the raw actions that base_ecom__user_visit_actions_triaged kept, typed
    and categorised, their id lists as arrays. A view: the raw rows are read and checked once,
    in that table, for this model and stg_ecom__quarantined_actions alike; a filter on
    `action_date` reaches its day partitions.
-#}

with

triaged as (
    select * from {{ ref('base_ecom__user_visit_actions_triaged') }}
),

final as (
    select
        session_id,
        user_id,
        page_id,
        city_id,
        action_type,
        search_keyword,
        click_category_id,
        click_product_id,
        order_category_ids,
        order_product_ids,
        pay_category_ids,
        pay_product_ids,
        raw_copies,
        raw_row_hash,
        raw_row_key,
        action_time,
        action_date
    from triaged
    where quarantine_reason is null
)

select * from final
