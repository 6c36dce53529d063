{#- A Python string as a quoted SQL string literal, safe for any content. -#}
{% macro sql_string(value) %}
    {{- return(adapter.dispatch('sql_string', 'ecom_analytics')(value)) -}}
{% endmacro %}

{% macro default__sql_string(value) %}
    {{- return("'" ~ (value | string).replace("'", "''") ~ "'") -}}
{% endmacro %}

{% macro spark__sql_string(value) %}
    {#- Spark reads backslash escapes inside literals, so escape those before quotes. -#}
    {{- return("'" ~ (value | string).replace('\\', '\\\\').replace("'", "\\'") ~ "'") -}}
{% endmacro %}


{#- A list of values as a typed SQL array literal (an empty list included). -#}
{% macro sql_array(values, element_type) %}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(sql_string(value) if element_type == 'string' else (value | int)) -%}
    {%- endfor -%}
    {{- return('cast(array(' ~ literals | join(', ') ~ ') as array<' ~ element_type ~ '>)') -}}
{% endmacro %}


{#- A value as a typed SQL literal, or a typed null. -#}
{% macro sql_value(value, type) %}
    {%- if value is none -%}
        {{- return('cast(null as ' ~ type ~ ')') -}}
    {%- elif type in ('string', 'date') -%}
        {{- return('cast(' ~ sql_string(value) ~ ' as ' ~ type ~ ')') -}}
    {%- else -%}
        {{- return('cast(' ~ (value | int) ~ ' as ' ~ type ~ ')') -}}
    {%- endif -%}
{% endmacro %}


{#- SQL conditions joined with `and`; `true` when there are none. -#}
{% macro all_of(conditions) %}
    {{- return('(' ~ conditions | join(') and (') ~ ')' if conditions else 'true') -}}
{% endmacro %}
