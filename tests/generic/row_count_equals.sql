{#- Fails when the model does not have exactly `expected` rows. -#}
{% test row_count_equals(model, expected) %}

with

counted as (
    select count(*) as row_count from {{ model }}
),

final as (
    select row_count from counted
    where row_count != {{ expected }}
)

select * from final

{% endtest %}
