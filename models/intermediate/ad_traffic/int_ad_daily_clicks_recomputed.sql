{#-
    SPEC 4's ad_daily_clicks recomputed in batch from the raw click table, with the stream's
    blacklist rule: see the doc block ad_daily_clicks_reconciliation.
-#}
with

clicks as (
    select * from {{ ref('stg_ad_stream__clicks') }}
),

batches as (
    select * from {{ ref('stg_ad_stream__batches') }}
),

stream_state as (
    select
        max(batch_id) as last_batch_id,
        max(threshold) as threshold
    from batches
),

committed_clicks as (
    select clicks.*
    from clicks
    cross join stream_state
    where clicks.batch_id <= stream_state.last_batch_id
),

user_batch_clicks as (
    select
        user_id,
        ad_id,
        batch_id,
        click_date,
        count(*) as clicks
    from committed_clicks
    group by user_id, ad_id, batch_id, click_date
),

running_clicks as (
    select
        user_id,
        batch_id,
        sum(clicks) over (
            partition by click_date, user_id, ad_id
            order by batch_id
            rows between unbounded preceding and current row
        ) as clicks_so_far
    from user_batch_clicks
),

blacklisted_users as (
    select
        running_clicks.user_id,
        min(running_clicks.batch_id) as blacklisted_batch_id
    from running_clicks
    cross join stream_state
    where running_clicks.clicks_so_far > stream_state.threshold
    group by running_clicks.user_id
),

counted_clicks as (
    select committed_clicks.*
    from committed_clicks
    left join blacklisted_users
        on committed_clicks.user_id = blacklisted_users.user_id
    where
        blacklisted_users.blacklisted_batch_id is null
        or committed_clicks.batch_id <= blacklisted_users.blacklisted_batch_id
),

final as (
    select
        ad_id,
        province,
        city,
        count(*) as clicks,
        click_date
    from counted_clicks
    group by ad_id, province, city, click_date
)

select * from final
