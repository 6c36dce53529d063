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
