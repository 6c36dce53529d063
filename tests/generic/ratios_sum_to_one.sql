{#-
    Fails for every group (e.g. task and dimension) whose ratios do not sum to 1 within
    `tolerance`, or mix null and non-null ratios. A group may have only null ratios when its
    `count_column` sums to 0 (nothing to share out).
-#}
{% test ratios_sum_to_one(model, column_name, group_by, count_column, tolerance=1e-9) %}

with

grouped as (
    select
        {{ group_by | join(', ') }},
        count(*) as group_rows,
        count({{ column_name }}) as ratio_rows,
        sum({{ column_name }}) as ratio_sum,
        sum({{ count_column }}) as count_sum
    from {{ model }}
    group by {{ group_by | join(', ') }}
),

final as (
    select * from grouped
    where
        (ratio_rows = 0 and count_sum != 0)
        or (ratio_rows > 0 and ratio_rows < group_rows)
        or (ratio_rows = group_rows and abs(ratio_sum - 1) > {{ tolerance }})
)

select * from final

{% endtest %}
