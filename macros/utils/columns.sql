{#-
    `column` as `type`, null when its value does not convert (never an error). A raw file may
    hold a value as a number or as a string: either gives the same result. `date` values parse
    as `yyyy-MM-dd`.
-#}
{% macro typed_column(column, type) %}
    {{- return(adapter.dispatch('typed_column', 'ecom_analytics')(column, type)) -}}
{% endmacro %}

{#- Spark: a column that already has the type is taken as it is (typed Parquet files skip a
    text round trip, about 1-2 s per 10 million rows and column). `typeof` is known when the
    query is planned, so Spark keeps only the branch that applies; since the choice is made
    each time a query runs, a view built on this stays right when the files' types change. -#}
{% macro spark__typed_column(column, type) -%}
    case
        when typeof({{ column }}) = {{ sql_string(type | lower) }}
            then cast({{ column }} as {{ type }})
        else {{ _parsed_from_text(column, type, 'string') }}
    end
{%- endmacro %}

{#- Elsewhere: always through the text. -#}
{% macro default__typed_column(column, type) -%}
    {{ _parsed_from_text(column, type, dbt.type_string()) }}
{%- endmacro %}

{#- The column's text (cast to `text_type`) parsed as `type`. -#}
{% macro _parsed_from_text(column, type, text_type) -%}
    {%- if type | lower == 'date' -%}
        {{ parse_date(column) }}
    {%- else -%}
        {{ try_cast('cast(' ~ column ~ ' as ' ~ text_type ~ ')', type) }}
    {%- endif -%}
{%- endmacro %}
