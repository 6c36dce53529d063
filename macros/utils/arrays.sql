{#- True when the array holds the value; false (never null) otherwise. -#}
{% macro array_has(array_expr, value_expr) %}
    {{- return(adapter.dispatch('array_has', 'ecom_analytics')(array_expr, value_expr)) -}}
{% endmacro %}

{% macro spark__array_has(array_expr, value_expr) -%}
    coalesce(array_contains({{ array_expr }}, {{ value_expr }}), false)
{%- endmacro %}

{% macro default__array_has(array_expr, value_expr) -%}
    coalesce({{ value_expr }} = any({{ array_expr }}), false)
{%- endmacro %}


{#- True when two arrays share at least one value; false (never null) otherwise. -#}
{% macro arrays_share_value(left_expr, right_expr) %}
    {{- return(adapter.dispatch('arrays_share_value', 'ecom_analytics')(left_expr, right_expr)) -}}
{% endmacro %}

{% macro spark__arrays_share_value(left_expr, right_expr) -%}
    coalesce(arrays_overlap({{ left_expr }}, {{ right_expr }}), false)
{%- endmacro %}

{% macro default__arrays_share_value(left_expr, right_expr) -%}
    coalesce({{ left_expr }} && {{ right_expr }}, false)
{%- endmacro %}


{#- An array's elements as text joined by `separator`, in array order ('' for an empty array). -#}
{% macro join_array(array_expr, separator=',') %}
    {{- return(adapter.dispatch('join_array', 'ecom_analytics')(array_expr, separator)) -}}
{% endmacro %}

{% macro spark__join_array(array_expr, separator) -%}
    array_join(
        transform({{ array_expr }}, element -> cast(element as string)),
        {{ sql_string(separator) }}
    )
{%- endmacro %}

{% macro default__join_array(array_expr, separator) -%}
    coalesce(array_to_string({{ array_expr }}, {{ sql_string(separator) }}), '')
{%- endmacro %}


{#- Set-returning select item: one output row per element of the array (none for empty/null). -#}
{% macro unnest_array(array_expr) %}
    {{- return(adapter.dispatch('unnest_array', 'ecom_analytics')(array_expr)) -}}
{% endmacro %}

{% macro spark__unnest_array(array_expr) -%}
    explode({{ array_expr }})
{%- endmacro %}

{% macro default__unnest_array(array_expr) -%}
    unnest({{ array_expr }})
{%- endmacro %}
