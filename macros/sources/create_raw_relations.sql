{#
    Makes the raw Parquet datasets under $ECOM_RAW_DIR queryable as dbt sources, with no manual
    step: called from `on-run-start`, it (re)creates one view per source table that declares
    `meta.raw_dataset`, pointing at `$ECOM_RAW_DIR/<raw_dataset>` (Hive-style `date=...`
    partition folders are discovered, and new files show up without any refresh), with where
    each row came from (`source_file_path`, `source_row_index`; Parquet only). It then checks
    each dataset's columns against the source's documented columns, so a wrong folder or file
    fails here with a message that says what is missing, not deep inside a model. An existing
    view is replaced in one step: another dbt command on the same warehouse (through a shared
    metastore) may be reading it right now.
#}
{% macro create_raw_relations() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_dir = env_var('ECOM_RAW_DIR', 'data/raw') -%}
    {%- set raw_sources = [] -%}
    {%- for source_node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if source_node.meta.get('raw_dataset') -%}
            {%- do raw_sources.append(source_node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for schema_name in raw_sources | map(attribute='schema') | unique -%}
        {%- do run_query(create_schema_if_missing(schema_name)) -%}
    {%- endfor -%}
    {%- for source_node in raw_sources -%}
        {%- set dataset = source_node.meta.get('raw_dataset') -%}
        {%- set location = adapter.qualified_path(raw_dir ~ '/' ~ dataset) -%}
        {%- if adapter.local_path_missing(location) -%}
            {%- do exceptions.raise_compiler_error(
                "Raw dataset '" ~ dataset ~ "' not found at " ~ location
                ~ " (ECOM_RAW_DIR=" ~ raw_dir ~ "). Generate demo data with `ecom generate`,"
                ~ " or point ECOM_RAW_DIR at a folder holding " ~ dataset
                ~ "/ as described in the README (Use your own data)."
            ) -%}
        {%- endif -%}
        {%- set file_format = source_node.meta.get('file_format', 'parquet') -%}
        {%- if file_format != 'parquet' -%}
            {%- do exceptions.raise_compiler_error(
                "Raw dataset '" ~ dataset ~ "' is declared as " ~ file_format ~ "; raw datasets"
                ~ " are Parquet (SPEC 1.1), whose rows staging can tell apart by their place in"
                ~ " the file. Convert the files to Parquet."
            ) -%}
        {%- endif -%}
        {%- set relation = api.Relation.create(
            schema=source_node.schema, identifier=source_node.identifier, type='view'
        ) -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
        {%- set replace = existing is not none and existing.is_view -%}
        {%- do run_query(create_path_view(relation, location, file_format, replace)) -%}
        {%- do check_raw_columns(relation, source_node, location) -%}
        {{ log("Raw source " ~ relation ~ " -> " ~ location, info=False) }}
    {%- endfor -%}
{% endmacro %}


{% macro check_raw_columns(relation, source_node, location) %}
    {%- set found = adapter.get_columns_in_relation(relation) | map(attribute='name')
        | map('lower') | list -%}
    {%- set missing = [] -%}
    {%- for column_name in source_node.columns -%}
        {%- if column_name | lower not in found -%}
            {%- do missing.append(column_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- do exceptions.raise_compiler_error(
            "Raw dataset at " ~ location ~ " lacks column(s) " ~ missing | join(', ')
            ~ " of source " ~ source_node.source_name ~ "." ~ source_node.name
            ~ "; it has: " ~ found | join(', ') ~ ". See SPEC section 1.1 for the expected layout."
        ) -%}
    {%- endif -%}
{% endmacro %}


{% macro create_schema_if_missing(schema_name) %}
    {{ return(adapter.dispatch('create_schema_if_missing', 'ecom_analytics')(schema_name)) }}
{% endmacro %}

{% macro default__create_schema_if_missing(schema_name) %}
    create schema if not exists {{ schema_name }}
{% endmacro %}


{% macro create_path_view(relation, location, file_format, replace=false) %}
    {{ return(adapter.dispatch('create_path_view', 'ecom_analytics')(
        relation, location, file_format, replace
    )) }}
{% endmacro %}

{% macro default__create_path_view(relation, location, file_format, replace=false) %}
    {%- do exceptions.raise_compiler_error(
        "create_path_view: reading " ~ file_format ~ " files by path is not implemented for "
        ~ adapter.type() ~ "; create " ~ relation ~ " over " ~ location ~ " yourself."
    ) -%}
{% endmacro %}

{#- Spark: besides the files' columns, where each row came from (`source_file_path`,
    `source_row_index`, from Spark's hidden `_metadata` column, which a view does not pass on
    unless it selects it): the staging models tell identical raw rows apart by it. An existing
    view is altered: `create or replace view` drops it before creating it again, and a query
    resolving it in between fails. -#}
{% macro spark__create_path_view(relation, location, file_format, replace) %}
{%- if replace %}
    alter view {{ relation }} as
{%- else %}
    create or replace view {{ relation }} as
{%- endif %}
    select
        *,
        _metadata.file_path as source_file_path,
        _metadata.row_index as source_row_index
    from {{ file_format }}.`{{ location | replace('`', '``') }}`
{% endmacro %}
