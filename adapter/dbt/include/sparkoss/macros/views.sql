{#
    A view replaced in one step, so that nobody reading it sees it missing.

    Spark runs `create or replace view` of an existing view as a drop followed by a create: a
    query that resolves the view in between fails with TABLE_OR_VIEW_NOT_FOUND. Within one dbt
    command no node reads a view while it is rebuilt, but another program can: a notebook, a
    dashboard on the Thrift server, a second dbt command, all on one warehouse through a shared
    metastore. `alter view ... as` replaces the definition with one metastore update instead.
    A new view, or one with documented columns or an enforced contract (which `alter view`
    cannot carry), is created as dbt-spark creates it.
#}
{% macro sparkoss__create_view_as(relation, sql) -%}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if existing is not none and existing.is_view
        and not config.persist_relation_docs() and not config.persist_column_docs()
        and not (contract_config and contract_config.enforced) -%}
  alter view {{ relation }} as
    {{ sql }}
    {%- else -%}
  {{ spark__create_view_as(relation, sql) }}
    {%- endif -%}
{%- endmacro %}
