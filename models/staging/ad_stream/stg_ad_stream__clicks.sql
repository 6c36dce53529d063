{#- Every validated click the stream read, with the micro-batch that read it. -#}
with

source as (
    select * from {{ source('ad_stream', 'ad_clicks') }}
),

final as (
    select
        user_id,
        ad_id,
        province,
        city,
        timestamp_ms,
        batch_id,
        click_date,
        click_time,
        loaded_at
    from source
)

select * from final
