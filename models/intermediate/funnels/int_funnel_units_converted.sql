{#-
    The best attempt of each funnel unit (SPEC 3, funnel_conversion): one row per unit (a
    session, or a user) with an event matching step 1.

    An attempt starts at any event matching step 1 and takes, step after step, the events that
    follow. The steps it reaches are those before the first step it misses or takes after the
    window's end (entry time + funnel_window_seconds, inclusive); the unit's result is its
    attempt with the most steps, ties to the earliest entry.

    - `ordered`: each step takes the earliest event after the previous step's that matches it.
      Read backwards, that is one window pass per step, from the last to the first: at an event
      matching step k, the times the attempt takes from there on are its own time followed by
      those of the nearest later event matching step k+1 (`times_from_step_<k>`). A pass reads
      only the events that match step k or an earlier one, so each pass is smaller.
    - `strict`: step k must be the (k-1)-th event after the entry, so one pass reads the times
      of the next events that match their step.

    Window functions over the unit's events in one order (SPEC 3, funnel_event_order, latest
    first), all on one shuffle and one sort; no Python, no per-row code.
-#}
{%- set task = task_params() -%}
{%- set steps = task.funnel_steps -%}
{%- set last_step = steps | length -%}
{%- set unit = task.funnel_unit ~ '_id' -%}
{%- set order = funnel_event_order(task.funnel_unit) -%}
{%- set latest_first = [] -%}
{%- for column in order -%}
    {%- do latest_first.append(column ~ ' desc') -%}
{%- endfor -%}
{%- set event_columns = [unit] + order + ['step_mask'] -%}
{%- set strict_step_times = ['action_time'] -%}
{%- for step in steps[1:] -%}
    {%- do strict_step_times.append(
        'lag(case when ' ~ funnel_step_matches(step.step) ~ ' then action_time end, '
        ~ (step.step - 1) ~ ') over latest_first'
    ) -%}
{%- endfor -%}
{%- set window_end = 'action_time + interval ' ~ task.funnel_window_seconds ~ ' seconds' %}

with

events as (
    select * from {{ ref('int_funnel_events_matched') }}
),

{% if task.funnel_order == 'strict' %}

    attempts as (
        -- each event as an entry: its time, then the time of the (k-1)-th next event
        -- when that matches step k
        select
            {{ unit }} as unit_id,
            city_id,
            step_mask,
            row_number() over latest_first - 1 as events_after,
            array(
                {{ strict_step_times | join(',\n                ') }}
            ) as step_times,
            action_time
        from events
        window latest_first as (
            partition by {{ unit }}
            order by {{ latest_first | join(', ') }}
        )
    ),

{% else %}

    times_from_step_{{ last_step }} as (
        select
            {{ event_columns | join(',\n            ') }},
            row_number() over latest_first - 1 as events_after,
            case
                when {{ funnel_step_matches(last_step) }} then array(action_time)
            end as times_from_step_{{ last_step }}
        from events
        window latest_first as (
            partition by {{ unit }}
            order by {{ latest_first | join(', ') }}
        )
    ),
    {% for step in range(last_step - 1, 0, -1) %}

        times_from_step_{{ step }} as (
            select
                {{ event_columns | join(',\n                ') }},
                events_after,
                case
                    when {{ funnel_step_matches(step) }}
                        then concat(
                            array(action_time),
                            coalesce(
                                last(times_from_step_{{ step + 1 }}) ignore nulls over later_events,
                                cast(array() as array<timestamp_ntz>)
                            )
                        )
                end as times_from_step_{{ step }}
            from times_from_step_{{ step + 1 }}
            -- the events of steps 1..k+1: the later steps are done
            where (step_mask & {{ 2 ** (step + 1) - 1 }}) != 0
            window later_events as (
                partition by {{ unit }}
                order by {{ latest_first | join(', ') }}
                rows between unbounded preceding and 1 preceding
            )
        ),
    {% endfor %}

    attempts as (
        select
            {{ unit }} as unit_id,
            city_id,
            step_mask,
            events_after,
            times_from_step_1 as step_times,
            action_time
        from times_from_step_1
    ),

{% endif %}

scored_attempts as (
    -- the steps reached: those before the first step missing or after the window's end
    select
        unit_id,
        city_id,
        events_after,
        step_times,
        coalesce(
            nullif(
                array_position(
                    transform(
                        step_times,
                        step_time -> coalesce(step_time > {{ window_end }}, true)
                    ),
                    true
                ),
                0
            ) - 1,
            size(step_times)
        ) as steps_reached,
        action_time
    from attempts
    where {{ funnel_step_matches(1) }}
),

ranked_attempts as (
    -- the best attempt: the most steps, then the earliest entry (the most events after it)
    select
        unit_id,
        city_id,
        step_times,
        steps_reached,
        action_time,
        named_struct('steps_reached', steps_reached, 'events_after', events_after)
            as attempt_rank,
        max(named_struct('steps_reached', steps_reached, 'events_after', events_after))
            over (partition by unit_id) as best_rank
    from scored_attempts
),

final as (
    select
        cast(unit_id as string) as unit_id,
        city_id as entry_city_id,
        cast(steps_reached as int) as steps_reached,
        transform(
            slice(step_times, 1, steps_reached),
            step_time -> timestampdiff(second, action_time, step_time)
        ) as seconds_to_step,
        to_date(action_time) as entry_date,
        action_time as entry_time,
        action_time + interval {{ task.funnel_window_seconds }} seconds as window_end_time
    from ranked_attempts
    where attempt_rank = best_rank
)

select * from final
