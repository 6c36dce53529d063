{#-
    One row per product whose extend_info gives no known status (malformed JSON, no
    `product_status`, another value): its clicks show a null `product_status` in the marts.
-#}
{% test product_status_parses(model, column_name) %}

select * from {{ model }}
where {{ product_status(column_name) }} is null

{% endtest %}
