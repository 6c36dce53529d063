{#-
    Comma-separated id lists (`order_category_ids` and friends): a well-formed list is one or
    more non-negative integers separated by single commas, e.g. `3,14,15`.
-#}
{% macro is_id_list(expr) %}
    {{- return(adapter.dispatch('is_id_list', 'ecom_analytics')(expr)) -}}
{% endmacro %}

{% macro spark__is_id_list(expr) -%}
    ({{ expr }} rlike '^[0-9]+(,[0-9]+)*$')
{%- endmacro %}


{#- A well-formed id list as an array of bigint, in list order (null stays null). -#}
{% macro split_id_list(expr) %}
    {{- return(adapter.dispatch('split_id_list', 'ecom_analytics')(expr)) -}}
{% endmacro %}

{% macro spark__split_id_list(expr) -%}
    transform(split({{ expr }}, ','), id_text -> cast(id_text as bigint))
{%- endmacro %}
