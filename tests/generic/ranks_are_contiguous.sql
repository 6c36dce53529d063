{#-
    Fails for every group (e.g. a task, or a task and a category; the whole model when
    `group_by` is empty) whose ranks are not exactly 1, 2, ..., n: a duplicate, a gap, a null
    or a start other than 1.
-#}
{% test ranks_are_contiguous(model, column_name, group_by=[]) %}

with

grouped as (
    select
        {%- for key in group_by %}
        {{ key }},
        {%- endfor %}
        count(*) as group_rows,
        count(distinct {{ column_name }}) as distinct_ranks,
        min({{ column_name }}) as lowest_rank,
        max({{ column_name }}) as highest_rank
    from {{ model }}
    {%- if group_by %}
    group by {{ group_by | join(', ') }}
    {%- endif %}
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
