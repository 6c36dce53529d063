{#-
    Business rules of area_top3_products (SPEC 1.2 and 3), one small macro each so the mart
    reads as the SPEC does and another engine only needs its own implementation here.
-#}

{#- The level of an area: A for East and North China, B for South and Central China, C for
    Northwest and Southwest, D for any other area (a null area included). -#}
{% macro area_level(area_expr) %}
    {{- return(adapter.dispatch('area_level', 'ecom_analytics')(area_expr)) -}}
{% endmacro %}

{% macro default__area_level(area_expr) -%}
    case
        when {{ area_expr }} in ('East China', 'North China') then 'A'
        when {{ area_expr }} in ('South China', 'Central China') then 'B'
        when {{ area_expr }} in ('Northwest', 'Southwest') then 'C'
        else 'D'
    end
{%- endmacro %}


{#- `self-operated` (0) or `third-party` (1) from a product's `extend_info` JSON, e.g.
    `{"product_status": 0}` (the number may be quoted). Null when the JSON is malformed, lacks
    `product_status` or holds another value: never an error. -#}
{% macro product_status(extend_info_expr) %}
    {{- return(adapter.dispatch('product_status', 'ecom_analytics')(extend_info_expr)) -}}
{% endmacro %}

{% macro default__product_status(extend_info_expr) -%}
    {{ _product_status_label("json_value(" ~ extend_info_expr ~ ", '$.product_status')") }}
{%- endmacro %}

{% macro spark__product_status(extend_info_expr) -%}
    {#- get_json_object yields null for malformed JSON and a missing key, never an error. -#}
    {{ _product_status_label("get_json_object(" ~ extend_info_expr ~ ", '$.product_status')") }}
{%- endmacro %}

{% macro _product_status_label(status_text_expr) -%}
    case trim({{ status_text_expr }})
        when '0' then 'self-operated'
        when '1' then 'third-party'
    end
{%- endmacro %}


{#- Aggregate: the distinct (sort key, text) pairs of a group, ordered by the sort key, then
    the text, and their texts joined with `separator`; e.g. `0:Beijing,9:Harbin`. -#}
{% macro join_distinct_sorted(text_expr, sort_expr, separator=',') %}
    {{- return(adapter.dispatch('join_distinct_sorted', 'ecom_analytics')(
        text_expr, sort_expr, separator)) -}}
{% endmacro %}

{% macro spark__join_distinct_sorted(text_expr, sort_expr, separator) -%}
    array_join(
        transform(
            array_sort(collect_set(named_struct(
                'sort_key', {{ sort_expr }}, 'text', {{ text_expr }}
            ))),
            pair -> pair.text
        ),
        {{ sql_string(separator) }}
    )
{%- endmacro %}
