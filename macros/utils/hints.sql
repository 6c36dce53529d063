{#-
    A hint, placed right after `select`, that the named relation of the query is small and should
    be sent whole to every task that joins with it (Spark's broadcast join), so the large side is
    not shuffled. Spark's planner cannot see that a filtered table is small when the filter, not
    the table, makes it so. Engines without such hints get nothing.
-#}
{% macro broadcast_hint(relation_name) %}
    {{- return(adapter.dispatch('broadcast_hint', 'ecom_analytics')(relation_name)) -}}
{% endmacro %}

{% macro default__broadcast_hint(relation_name) %}
    {{- return('') -}}
{% endmacro %}

{% macro spark__broadcast_hint(relation_name) %}
    {{- return('/*+ broadcast(' ~ relation_name ~ ') */') -}}
{% endmacro %}
