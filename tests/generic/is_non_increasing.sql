{#-
    Fails for every row whose column is greater than in the row before it, rows ordered by
    `order_by` within each group (`group_by`; the whole model when empty): a count that can only
    shrink along an order, such as the units of a funnel from step to step.
-#}
{% test is_non_increasing(model, column_name, order_by, group_by=[]) %}
{#- without group_by, the whole model is one group (keyed by a constant) -#}
{%- set group_keys = group_by or ["'whole model'"] -%}

with

compared as (
    select
        {{ group_keys | join(', ') }},
        {{ order_by }} as position,
        {{ column_name }} as current_value,
        lag({{ column_name }}) over previous_rows as previous_value
    from {{ model }}
    window previous_rows as (partition by {{ group_keys | join(', ') }} order by {{ order_by }})
),

final as (
    select * from compared
    where current_value > previous_value
)

select * from final

{% endtest %}
