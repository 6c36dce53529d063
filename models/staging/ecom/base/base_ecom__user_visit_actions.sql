{#-
    Every raw action, typed, with the first contract rule it breaks on its own
    (`quarantine_reason`, null for a row that passes them). Only the rule for exact copies needs
    the other rows: base_ecom__user_visit_actions_triaged counts the copies by `raw_row_hash`,
    keeps one and quarantines the others with the broken rows, so no row is lost without a
    trace. This view has no window and no shuffle: that table reads it in one pass.

    The raw values stay as text (`raw_*`) for the quarantine. Columns that the files already
    hold in the contract's type (bigint ids, a `date` folder Spark reads as a date) are used as
    they are; others are parsed from their text, with the same result (typed_column).
-#}
{#- The `date` folder hashes as its text: Spark reads it as a date only while every folder name
    is one, and a hash that changed with that guess would differ between runs. -#}
{%- set hashed_columns = [] -%}
{%- for column in source_action_columns() -%}
    {%- do hashed_columns.append('cast(date as string)' if column == 'date' else column) -%}
{%- endfor %}

with

source as (
    select * from {{ source('ecom_raw', 'user_visit_action') }}
),

cities as (
    select city_id from {{ ref('city_info') }}
),

typed as (
    select
        -- the raw values as text, exactly as they came (kept for the quarantine)
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
        cast(city_id as string) as raw_city_id,
        -- identical raw rows hash alike; each row's place in the files tells copies apart
        {{ row_hash(hashed_columns) }} as raw_row_hash,
        {{ row_hash(['source_file_path', 'source_row_index']) }} as raw_row_key,
        nullif(trim(cast(session_id as string)), '') as session_id,
        {{ typed_column('user_id', 'bigint') }} as user_id,
        {{ typed_column('page_id', 'bigint') }} as page_id,
        {{ typed_column('city_id', 'bigint') }} as city_id,
        nullif(trim(cast(search_keyword as string)), '') as search_keyword,
        {{ typed_column('click_category_id', 'bigint') }} as click_category_id,
        {{ typed_column('click_product_id', 'bigint') }} as click_product_id,
        nullif(trim(cast(order_category_ids as string)), '') as order_category_ids,
        nullif(trim(cast(order_product_ids as string)), '') as order_product_ids,
        nullif(trim(cast(pay_category_ids as string)), '') as pay_category_ids,
        nullif(trim(cast(pay_product_ids as string)), '') as pay_product_ids,
        {{ typed_column('date', 'date') }} as action_date,
        {{ parse_timestamp_ntz('cast(action_time as string)') }} as action_time
    from source
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
