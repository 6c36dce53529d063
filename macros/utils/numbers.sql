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
    One hash of the values of `columns` in a row, nulls included (Spark: 64 bits): rows whose
    values differ hash apart but for odds of about 1 in 2^64 per pair. For keying wide rows by
    one short value (a shuffle and sort of one number instead of many texts); a model that must
    be exact keeps the columns that matter next to it in the key.
-#}
{% macro row_hash(columns) %}
    {{- return(adapter.dispatch('row_hash', 'ecom_analytics')(columns)) -}}
{% endmacro %}

{#- xxhash64 skips null arguments, so (null, 'a') and ('a', null) would hash alike: a flag after
    each column keeps the places of the nulls in the hash. -#}
{% macro spark__row_hash(columns) -%}
    xxhash64(
    {%- for column in columns %}{{ column }}, isnull({{ column }}){{ ', ' if not loop.last }}{% endfor -%}
    )
{%- endmacro %}

{#- Elsewhere: md5 of the values as text, each led by its length (so no separator is ambiguous),
    a null written as `-`. -#}
{% macro default__row_hash(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' -%}
        {%- do parts.append(
            'coalesce(cast(' ~ dbt.length(text) ~ ' as ' ~ dbt.type_string() ~ ") || ':' || "
            ~ text ~ ", '-')"
        ) -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
