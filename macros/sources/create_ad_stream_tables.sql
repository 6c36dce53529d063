{#
    Creates the tables of the streaming job (SPEC 4) empty when they are missing, so that a
    project whose stream never ran still builds: it runs one `create table if not exists` per
    table of a source that declares `meta.ad_stream`, with the columns and types documented there
    (models/staging/ad_stream/_ad_stream__sources.yml), as Delta tables with the source's
    `meta.ad_stream_table_properties`. The job (streaming/tables.py) builds the same statement from
    the same file, so the two always agree; existing tables are left as they are. From `on-run-start` (`only_when_selected=true`) it does so only when the command selected
    something that reads those tables, so an offline build (`--exclude tag:ad_stream`, or
    `-s` of offline models) spends no metastore calls on them; `dbt run-operation
    create_ad_stream_tables` always creates them.
#}
{% macro create_ad_stream_tables(only_when_selected=false) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stream_sources = [] -%}
    {%- for source_node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if source_node.meta.get('ad_stream') -%}
            {%- do stream_sources.append(source_node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if only_when_selected and not ad_stream_selected(stream_sources) -%}
        {{ log("No selected node reads the stream's tables: not creating them", info=False) }}
        {{ return('') }}
    {%- endif -%}
    {%- for schema_name in stream_sources | map(attribute='schema') | unique -%}
        {%- do run_query(create_schema_if_missing(schema_name)) -%}
    {%- endfor -%}
    {%- for source_node in stream_sources -%}
        {%- set relation = api.Relation.create(
            schema=source_node.schema, identifier=source_node.identifier, type='table'
        ) -%}
        {%- do run_query(create_stream_table(
            relation,
            source_node.columns.values() | list,
            source_node.meta['ad_stream'].get('partition_by'),
            source_node.source_meta.get('ad_stream_table_properties', {})
        )) -%}
    {%- endfor -%}
{% endmacro %}


{#- Whether this command selected a node that reads the streaming job's tables: one tagged
    `ad_stream` (the models over them), one that depends on such a source, or one that depends
    on such a model (its tests). Exposures (the dashboards) only document what they read; a
    build passes them as no-ops. -#}
{% macro ad_stream_selected(stream_sources) %}
    {%- set readers = stream_sources | map(attribute='unique_id') | list -%}
    {%- for node in graph.nodes.values() -%}
        {%- if 'ad_stream' in node.tags -%}
            {%- do readers.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for unique_id in selected_resources -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if unique_id in readers
            or (node and node.depends_on.nodes | select('in', readers) | list) -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{% endmacro %}


{% macro create_stream_table(relation, columns, partition_by, properties={}) %}
    {{ return(adapter.dispatch('create_stream_table', 'ecom_analytics')(
        relation, columns, partition_by, properties
    )) }}
{% endmacro %}

{% macro default__create_stream_table(relation, columns, partition_by, properties) %}
    create table if not exists {{ relation }} ({{ column_definitions(columns) }})
{% endmacro %}

{% macro spark__create_stream_table(relation, columns, partition_by, properties) %}
    {%- set settings = [] -%}
    {%- for key, value in properties.items() -%}
        {%- do settings.append("'" ~ key ~ "' = '" ~ value ~ "'") -%}
    {%- endfor -%}
    create table if not exists {{ relation }} ({{ column_definitions(columns) }})
    using delta
    {{ 'partitioned by (' ~ partition_by ~ ')' if partition_by }}
    {{ 'tblproperties (' ~ settings | join(', ') ~ ')' if settings }}
{% endmacro %}


{#- `name type, name type, ...` of the columns (dicts or nodes with name and data_type). -#}
{% macro column_definitions(columns) %}
    {%- set definitions = [] -%}
    {%- for column in columns -%}
        {%- do definitions.append(column.name ~ ' ' ~ column.data_type) -%}
    {%- endfor -%}
    {{ return(definitions | join(', ')) }}
{% endmacro %}
