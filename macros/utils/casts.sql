{#- `expr` cast to `type`, or null when the value does not convert (never an error). -#}
{% macro try_cast(expr, type) %}
    {{- return(adapter.dispatch('try_cast', 'ecom_analytics')(expr, type)) -}}
{% endmacro %}

{% macro default__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}


{#-
    A `yyyy-MM-dd HH:mm:ss` string as a timestamp without time zone (the raw action times are
    site-local), null when it does not parse. Without a zone no DST gap or session time zone can
    shift a value or a duration.
-#}
{% macro parse_timestamp_ntz(expr, format='yyyy-MM-dd HH:mm:ss') %}
    {{- return(adapter.dispatch('parse_timestamp_ntz', 'ecom_analytics')(expr, format)) -}}
{% endmacro %}

{% macro spark__parse_timestamp_ntz(expr, format) -%}
    {#- dbt-spark runs every connection with ANSI mode off, so a bad string yields null. -#}
    to_timestamp_ntz({{ expr }}, {{ sql_string(format) }})
{%- endmacro %}


{#- A `yyyy-MM-dd` string (or a date) as a date, null when it does not parse. -#}
{% macro parse_date(expr, format='yyyy-MM-dd') %}
    {{- return(adapter.dispatch('parse_date', 'ecom_analytics')(expr, format)) -}}
{% endmacro %}

{% macro spark__parse_date(expr, format) -%}
    to_date(cast({{ expr }} as string), {{ sql_string(format) }})
{%- endmacro %}
