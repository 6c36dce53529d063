{#-
    Every raw action, typed, with the first contract rule it breaks on its own
    (`quarantine_reason`, null for a row that passes them). Only the rule for exact copies needs
    the other rows: stg_ecom__user_visit_actions numbers the copies among the passing rows, and
    stg_ecom__quarantined_actions keeps the broken rows and the extra copies, so no row is lost
    without a trace. This view has no window and no shuffle: both read it cheaply.
-#}
with

source as (
    select * from {{ source('ecom_raw', 'user_visit_action') }}
),

cities as (
    select city_id from {{ ref('city_info') }}
),

as_text as (
    -- the raw values as text, exactly as they came (kept for the quarantine)
    select
        cast(date as string) as raw_date,
        cast(user_id as string) as raw_user_id,
        cast(session_id as string) as raw_session_id,
        cast(page_id as string) as raw_page_id,
        cast(action_time as string) as raw_action_time,
        cast(search_keyword as string) as raw_search_keyword,
        cast(click_category_id as string) as raw_click_category_id,
        cast(click_product_id as string) as raw_click_product_id,
        cast(order_category_ids as string) as raw_order_category_ids,
        cast(order_product_ids as string) as raw_order_product_ids,
        cast(pay_category_ids as string) as raw_pay_category_ids,
        cast(pay_product_ids as string) as raw_pay_product_ids,
        cast(city_id as string) as raw_city_id
    from source
),

typed as (
    select
        *,
        nullif(trim(raw_session_id), '') as session_id,
        {{ try_cast('raw_user_id', 'bigint') }} as user_id,
        {{ try_cast('raw_page_id', 'bigint') }} as page_id,
        {{ try_cast('raw_city_id', 'bigint') }} as city_id,
        nullif(trim(raw_search_keyword), '') as search_keyword,
        {{ try_cast('raw_click_category_id', 'bigint') }} as click_category_id,
        {{ try_cast('raw_click_product_id', 'bigint') }} as click_product_id,
        nullif(trim(raw_order_category_ids), '') as order_category_ids,
        nullif(trim(raw_order_product_ids), '') as order_product_ids,
        nullif(trim(raw_pay_category_ids), '') as pay_category_ids,
        nullif(trim(raw_pay_product_ids), '') as pay_product_ids,
        {{ parse_date('raw_date') }} as action_date,
        {{ parse_timestamp_ntz('raw_action_time') }} as action_time
    from as_text
),

checked as (
    select
        typed.*,
        case
            when typed.session_id is null then 'null_session_id'
            when typed.user_id is null then 'null_user_id'
            when typed.action_time is null then 'unparsable_action_time'
            when
                typed.action_date is null
                or typed.action_date != cast(typed.action_time as date)
                then 'date_mismatch'
            when typed.page_id is null then 'null_page_id'
            when cities.city_id is null then 'unknown_city'
            when
                not coalesce({{ is_id_list('typed.order_category_ids') }}, true)
                or not coalesce({{ is_id_list('typed.order_product_ids') }}, true)
                or not coalesce({{ is_id_list('typed.pay_category_ids') }}, true)
                or not coalesce({{ is_id_list('typed.pay_product_ids') }}, true)
                then 'malformed_id_list'
            when
                (typed.raw_click_category_id is not null and typed.click_category_id is null)
                or (typed.raw_click_product_id is not null and typed.click_product_id is null)
                or typed.click_category_id < -1
                or typed.click_product_id < -1
                then 'invalid_click_id'
        end as quarantine_reason
    from typed
    left join cities
        on typed.city_id = cities.city_id
),

final as (
    select * from checked
)

select * from final
