{#-
    How long the task's matching sessions are (SPEC 3): per dimension (visit length in seconds,
    step length in actions) the sessions in each bucket and their share. Every bucket appears,
    with 0 sessions when none falls in it; with no matching session every ratio is null.
-#}
{%- set task = task_params() -%}

with

sessions as (
    select * from {{ ref('int_sessions_matched') }}
),

buckets as (
    -- the buckets of SPEC 3, bounds inclusive; a null upper bound is open-ended
    select
        bucket_bounds.dimension,
        bucket_bounds.bucket,
        bucket_bounds.bucket_order,
        bucket_bounds.lower_bound,
        bucket_bounds.upper_bound
    from
        values
        ('visit_length', '0s_3s', 1, 0, 3),
        ('visit_length', '4s_6s', 2, 4, 6),
        ('visit_length', '7s_9s', 3, 7, 9),
        ('visit_length', '10s_30s', 4, 10, 30),
        ('visit_length', '30s_60s', 5, 31, 60),
        ('visit_length', '1m_3m', 6, 61, 180),
        ('visit_length', '3m_10m', 7, 181, 600),
        ('visit_length', '10m_30m', 8, 601, 1800),
        ('visit_length', '30m+', 9, 1801, null),
        ('step_length', '1_3', 1, 1, 3),
        ('step_length', '4_6', 2, 4, 6),
        ('step_length', '7_9', 3, 7, 9),
        ('step_length', '10_30', 4, 10, 30),
        ('step_length', '30_60', 5, 31, 60),
        ('step_length', '60+', 6, 61, null)
            as bucket_bounds (dimension, bucket, bucket_order, lower_bound, upper_bound)
),

lengths as (
    select
        'visit_length' as dimension,
        visit_length_seconds as length_value,
        count(*) as sessions
    from sessions
    group by visit_length_seconds
    union all
    select
        'step_length' as dimension,
        step_length as length_value,
        count(*) as sessions
    from sessions
    group by step_length
),

bucketed as (
    select
        buckets.dimension,
        buckets.bucket,
        buckets.bucket_order,
        coalesce(sum(lengths.sessions), 0) as sessions
    from buckets
    left join lengths
        on
            buckets.dimension = lengths.dimension
            and buckets.lower_bound <= lengths.length_value
            and (buckets.upper_bound is null or buckets.upper_bound >= lengths.length_value)
    group by buckets.dimension, buckets.bucket, buckets.bucket_order
),

totals as (
    select count(*) as matching_sessions from sessions
),

final as (
    select
        {{ sql_value(task.task_id, 'string') }} as task_id,
        bucketed.dimension,
        bucketed.bucket,
        cast(bucketed.bucket_order as int) as bucket_order,
        cast(bucketed.sessions as bigint) as sessions,
        case
            when totals.matching_sessions > 0
                then cast(bucketed.sessions as double) / totals.matching_sessions
        end as ratio
    from bucketed
    cross join totals
)

select * from final
