{#- One row per micro-batch the stream completed. -#}
with

source as (
    select * from {{ source('ad_stream', 'ad_stream_batches') }}
),

final as (
    select
        batch_id,
        stream_id,
        input_lines,
        clicks,
        quarantined_lines,
        dropped_clicks,
        counted_clicks,
        new_blacklisted,
        blacklist_size,
        threshold,
        duration_seconds,
        rows_per_second,
        batch_date,
        trend_start,
        batch_time
    from source
)

select * from final
