{#- The stream's cumulative clicks per day, province, city and ad (SPEC 4 `ad_daily_clicks`). -#}
with

source as (
    select * from {{ source('ad_stream', 'ad_daily_clicks') }}
),

final as (
    select
        ad_id,
        province,
        city,
        clicks,
        click_date,
        updated_at
    from source
)

select * from final
