{#-
    The task's ordered funnel with a conversion window (SPEC 3): per breakdown (everything, the
    area of the entry event's city, the day of the entry event) and step, how many units (sessions
    or users) reached the step with their best attempt, how many dropped before it, the
    conversion from the previous step and from the start, how long the units took to get there
    (median and 90th percentile), and at step 1 the units whose window was still open when the
    data ended.

    One pass over the units: each unit in its three breakdowns, one row per step it reached.
    The durations are counted per (breakdown, step, seconds) first and the percentiles taken
    with those counts as frequencies: the percentile_cont of every unit's duration, from a few
    thousand rows instead of one per unit. Incremental by task: the folder's config writes this
    task's partition and leaves every other task's rows as they are.
-#}
{%- set task = task_params() -%}
{%- set steps = task.funnel_steps %}

with

units as (
    select * from {{ ref('int_funnel_units_converted') }}
),

cities as (
    select * from {{ ref('city_info') }}
),

sessions as (
    select * from {{ ref('int_sessions_sliced') }}
),

funnel_steps as (
    select
        step_names.step,
        step_names.step_name
    from
        values
        {%- for step in steps %}
            ({{ step.step }}, {{ sql_string(step.name) }}){{ ',' if not loop.last }}
        {%- endfor %}
            as step_names (step, step_name)
),

data_end as (
    -- the last action of all sessions in the task's date range
    select max(end_time) as last_action_time from sessions
),

unit_breakdowns as (
    -- every unit in three breakdowns: all units, the area of its entry, the day of its entry
    select
        explode(array(
            named_struct('kind', 'all', 'value', 'all'),
            named_struct('kind', 'area', 'value', cities.area),
            named_struct('kind', 'entry_date', 'value', cast(units.entry_date as string))
        )) as breakdown,
        units.steps_reached,
        units.seconds_to_step,
        units.steps_reached < {{ steps | length }}
        and units.window_end_time > data_end.last_action_time as is_incomplete
    from units
    inner join cities
        on units.entry_city_id = cities.city_id
    cross join data_end
),

reached as (
    -- one row per unit, breakdown and step its best attempt reached
    select
        unit_breakdowns.breakdown.kind as breakdown_kind,
        unit_breakdowns.breakdown.value as breakdown_value,
        unit_breakdowns.is_incomplete,
        posexplode(unit_breakdowns.seconds_to_step) as (step_index, seconds)
    from unit_breakdowns
),

durations as (
    -- units per breakdown, step and seconds from entry to the step
    select
        breakdown_kind,
        breakdown_value,
        step_index + 1 as step,
        seconds,
        count(*) as units,
        count_if(step_index = 0 and is_incomplete) as incomplete_units
    from reached
    group by breakdown_kind, breakdown_value, step_index, seconds
),

reached_steps as (
    select
        breakdown_kind,
        breakdown_value,
        step,
        sum(units) as units_reached,
        sum(incomplete_units) as incomplete_units,
        percentile(seconds, 0.5, units) as median_seconds_to_step,
        percentile(seconds, 0.9, units) as p90_seconds_to_step
    from durations
    group by breakdown_kind, breakdown_value, step
),

breakdown_steps as (
    -- every step of every breakdown value with units at step 1
    select
        breakdown_values.breakdown_kind,
        breakdown_values.breakdown_value,
        funnel_steps.step,
        funnel_steps.step_name,
        coalesce(reached_steps.units_reached, 0) as units_reached,
        coalesce(reached_steps.incomplete_units, 0) as incomplete_units,
        reached_steps.median_seconds_to_step,
        reached_steps.p90_seconds_to_step
    from reached_steps as breakdown_values
    cross join funnel_steps
    left join reached_steps
        on
            breakdown_values.breakdown_kind = reached_steps.breakdown_kind
            and breakdown_values.breakdown_value = reached_steps.breakdown_value
            and funnel_steps.step = reached_steps.step
    where breakdown_values.step = 1
),

compared as (
    select
        breakdown_kind,
        breakdown_value,
        step,
        step_name,
        units_reached,
        incomplete_units,
        median_seconds_to_step,
        p90_seconds_to_step,
        lag(units_reached) over breakdown_order as previous_units,
        first_value(units_reached) over breakdown_order as start_units
    from breakdown_steps
    window breakdown_order as (partition by breakdown_kind, breakdown_value order by step)
),

final as (
    select
        {{ sql_value(task.task_id, 'string') }} as task_id,
        breakdown_kind,
        breakdown_value,
        cast(step as int) as step,
        step_name,
        cast(units_reached as bigint) as units_reached,
        cast(coalesce(previous_units - units_reached, 0) as bigint) as dropped,
        case
            when step = 1 then 1.0d
            when previous_units > 0 then cast(units_reached as double) / previous_units
        end as conversion_from_previous,
        case
            when start_units > 0 then cast(units_reached as double) / start_units
        end as conversion_from_start,
        median_seconds_to_step,
        p90_seconds_to_step,
        cast(incomplete_units as bigint) as incomplete_units
    from compared
)

select * from final
