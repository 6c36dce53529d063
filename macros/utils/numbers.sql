{#- Whole-number division of non-negative integers, rounded down, exact (no floating point). -#}
{% macro integer_divide(numerator, denominator) %}
    {{- return(adapter.dispatch('integer_divide', 'ecom_analytics')(numerator, denominator)) -}}
{% endmacro %}

{% macro spark__integer_divide(numerator, denominator) -%}
    (({{ numerator }}) div ({{ denominator }}))
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    floor(({{ numerator }}) / ({{ denominator }}))
{%- endmacro %}


{#-
    A 64-bit hash of `expr` keyed by `seed`: the same (seed, value) always gives the same hash, a
    different seed gives an unrelated order. Ordering by it is a reproducible random shuffle.
-#}
{% macro seeded_hash(seed_expr, expr) %}
    {{- return(adapter.dispatch('seeded_hash', 'ecom_analytics')(seed_expr, expr)) -}}
{% endmacro %}

{% macro spark__seeded_hash(seed_expr, expr) -%}
    xxhash64({{ seed_expr }}, {{ expr }})
{%- endmacro %}


{#-
    A 64-bit hash of a row's columns (a list of SQL expressions): equal rows always hash alike,
    different rows almost never do. For finding candidate duplicates cheaply; confirm them by
    comparing the columns themselves.
-#}
{% macro row_hash(columns) %}
    {{- return(adapter.dispatch('row_hash', 'ecom_analytics')(columns)) -}}
{% endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    {%- set texts = [] -%}
    {%- for column in columns -%}
        {%- do texts.append("coalesce(cast(" ~ column ~ " as varchar), '<null>')") -%}
    {%- endfor -%}
    {{ dbt.hash(texts | join(" || '|' || ")) }}
{%- endmacro %}


{#- An optimizer hint to broadcast `relation_name` to the join (nothing where unsupported). -#}
{% macro broadcast_hint(relation_name) %}
    {{- return(adapter.dispatch('broadcast_hint', 'ecom_analytics')(relation_name)) -}}
{% endmacro %}

{% macro spark__broadcast_hint(relation_name) -%}
    /*+ broadcast({{ relation_name }}) */
{%- endmacro %}

{% macro default__broadcast_hint(relation_name) -%}
{%- endmacro %}
