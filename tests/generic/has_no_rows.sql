{#- Fails (or warns, with severity: warn) with one result per row of the model. -#}
{% test has_no_rows(model) %}

select * from {{ model }}

{% endtest %}
