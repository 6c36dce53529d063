{#-
    The stream's ad_daily_clicks equals its batch recomputation from the raw click table, row
    for row (doc block ad_daily_clicks_reconciliation). Returns the rows that differ.
-#}
with

streamed as (
    select * from {{ ref('stg_ad_stream__daily_clicks') }}
),

recomputed as (
    select * from {{ ref('int_ad_daily_clicks_recomputed') }}
),

final as (
    select
        coalesce(streamed.ad_id, recomputed.ad_id) as ad_id,
        coalesce(streamed.province, recomputed.province) as province,
        coalesce(streamed.city, recomputed.city) as city,
        streamed.clicks as streamed_clicks,
        recomputed.clicks as recomputed_clicks,
        coalesce(streamed.click_date, recomputed.click_date) as click_date
    from streamed
    full outer join recomputed
        on
            streamed.click_date = recomputed.click_date
            and streamed.province = recomputed.province
            and streamed.city = recomputed.city
            and streamed.ad_id = recomputed.ad_id
    where
        streamed.clicks is null
        or recomputed.clicks is null
        or streamed.clicks != recomputed.clicks
)

select * from final
