{#-
    Fails for every group (e.g. a task, or a task and a category; the whole model when
    `group_by` is empty) whose ranks are not exactly 1, 2, ..., n: a duplicate, a gap, a null
    or a start other than 1.
-#}
{% test ranks_are_contiguous(model, column_name, group_by=[]) %}
{#- without group_by, the whole model is one group (keyed by a constant) -#}
{%- set group_keys = group_by or ["'whole model'"] -%}

with

grouped as (
    select
        {{ group_keys | join(', ') }},
        count(*) as group_rows,
        count(distinct {{ column_name }}) as distinct_ranks,
        min({{ column_name }}) as lowest_rank,
        max({{ column_name }}) as highest_rank
    from {{ model }}
    group by {{ group_keys | join(', ') }}
),

final as (
    select * from grouped
    where
        distinct_ranks != group_rows
        or lowest_rank != 1
        or highest_rank != group_rows
)

select * from final

{% endtest %}
