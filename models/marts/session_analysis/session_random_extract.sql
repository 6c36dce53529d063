{#-
    A reproducible random sample of the task's matching sessions (SPEC 3). It holds exactly
    min(extract_sessions, matching sessions) sessions, apportioned to the (date, hour of the
    first action) slots by the largest-remainder method: each slot gets the whole part of its
    exact share extract_size * slot_sessions / matching_sessions, and the seats left go one each
    to the slots with the largest remainders, earlier slot first on equal remainders. Within a
    slot the sessions are shuffled by a hash of (random_seed, session_id) and the first ones
    drawn. Integer arithmetic throughout, so no rounding can lose or add a session.
-#}
{%- set task = task_params() -%}

with

sessions as (
    select * from {{ ref('int_sessions_matched') }}
),

slots as (
    select
        date_hour,
        count(*) as slot_sessions
    from sessions
    group by date_hour
),

totals as (
    select
        sum(slot_sessions) as matching_sessions,
        least(
            {{ sql_value(task.extract_sessions, 'bigint') }}, sum(slot_sessions)
        ) as extract_size
    from slots
),

shares as (
    select
        slots.date_hour,
        totals.extract_size,
        {{ integer_divide(
            'totals.extract_size * slots.slot_sessions', 'totals.matching_sessions'
        ) }} as whole_seats,
        (totals.extract_size * slots.slot_sessions) % totals.matching_sessions as remainder
    from slots
    cross join totals
),

remainders_ranked as (
    select
        date_hour,
        whole_seats,
        extract_size - sum(whole_seats) over () as seats_left,
        row_number() over (order by remainder desc, date_hour asc) as remainder_rank
    from shares
),

apportioned as (
    select
        date_hour,
        whole_seats + case when remainder_rank <= seats_left then 1 else 0 end as seats
    from remainders_ranked
),

shuffled as (
    select
        *,
        row_number() over (
            partition by date_hour
            order by
                {{ seeded_hash(sql_value(task.random_seed, 'bigint'), 'session_id') }},
                session_id
        ) as draw_order
    from sessions
),

drawn as (
    select shuffled.*
    from shuffled
    inner join apportioned
        on shuffled.date_hour = apportioned.date_hour
    where shuffled.draw_order <= apportioned.seats
),

final as (
    select
        {{ sql_value(task.task_id, 'string') }} as task_id,
        session_id,
        start_time,
        date_hour,
        {{ join_array('search_keywords') }} as search_keywords,
        {{ join_array('click_category_ids') }} as click_category_ids
    from drawn
)

select * from final
