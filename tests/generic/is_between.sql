{#- Fails for every row whose column lies outside [low, high] (null values pass). -#}
{% test is_between(model, column_name, low, high) %}

with

final as (
    select {{ column_name }} as out_of_range
    from {{ model }}
    where {{ column_name }} < {{ low }} or {{ column_name }} > {{ high }}
)

select * from final

{% endtest %}
