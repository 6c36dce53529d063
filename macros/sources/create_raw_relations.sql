{#
    Makes the raw Parquet datasets under $ECOM_RAW_DIR queryable as dbt sources, with no manual
    step: called from `on-run-start`, it (re)creates one view per source table that declares
    `meta.raw_dataset`, pointing at `$ECOM_RAW_DIR/<raw_dataset>` (Hive-style `date=...`
    partition folders are discovered, and new files show up without any refresh), with where
    each row came from (`source_file_path`, `source_row_index`; Parquet only). It then checks
    each dataset's columns against the source's documented columns, so a wrong folder or file
    fails here with a message that says what is missing, not deep inside a model. An
    existing view is replaced in one step: another dbt command on the same warehouse (through a
    shared metastore) may be reading it right now.

    A local folder is checked first, before Spark reads it (adapter.raw_dataset_check). An
    empty folder stops the run with one line. A file that is not Parquet, is truncated or has
    a column of another kind than most of the dataset's files is skipped, named in a warning
    and recorded in the source `quarantined_raw_files` (staged as stg_ecom__quarantined_files):
    one broken file does not stop a shop's daily run. More bad files than the variable
    `max_bad_file_share` of a dataset's files (default 0.1), or no good file at all, stop the
    run with one line naming them.
#}
{% macro create_raw_relations() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_dir = env_var('ECOM_RAW_DIR', 'data/raw') -%}
    {%- set max_bad_share = max_bad_file_share() -%}
    {%- set skipped = [] -%}
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
        {%- set declared = {} -%}
        {%- for column in source_node.columns.values() if column.data_type -%}
            {%- do declared.update({column.name: column.data_type}) -%}
        {%- endfor -%}
        {%- set check = adapter.raw_dataset_check(dataset, location, declared, max_bad_share) -%}
        {%- if check.problem -%}
            {%- do exceptions.raise_compiler_error(check.problem) -%}
        {%- endif -%}
        {%- if check.skipped_line -%}
            {{ log("Warning: " ~ check.skipped_line
                ~ " They are listed in stg_ecom__quarantined_files.", info=True) }}
        {%- endif -%}
        {%- for bad in check.skipped -%}
            {%- do skipped.append([dataset, bad.file_path, bad.reason]) -%}
        {%- endfor -%}
        {%- set relation = api.Relation.create(
            schema=source_node.schema, identifier=source_node.identifier, type='view'
        ) -%}
        {%- do run_query(create_path_view(
            relation, check.read_from, file_format, location, is_view(relation)
        )) -%}
        {%- do check_raw_columns(relation, source_node, location) -%}
        {{ log("Raw source " ~ relation ~ " -> " ~ check.read_from, info=False) }}
    {%- endfor -%}
    {%- for source_node in graph.sources.values() if source_node.meta.get('raw_file_quarantine') -%}
        {%- do run_query(create_schema_if_missing(source_node.schema)) -%}
        {%- set relation = api.Relation.create(
            schema=source_node.schema, identifier=source_node.identifier, type='view'
        ) -%}
        {%- do run_query(create_skipped_files_view(relation, skipped, is_view(relation))) -%}
    {%- endfor -%}
{% endmacro %}


{#- The share of a raw dataset's files that may be skipped as unreadable (0 to 1). -#}
{% macro max_bad_file_share() %}
    {%- set raw = var('max_bad_file_share', 0.1) -%}
    {%- set text = raw | string | trim -%}
    {%- if raw is sameas true or raw is sameas false
        or not modules.re.fullmatch('[0-9]*[.]?[0-9]+|[0-9]+[.]', text) or text | float > 1 -%}
        {%- do var_error('max_bad_file_share', raw, 'a share from 0 to 1, e.g. 0.1', 'variable') -%}
    {%- endif -%}
    {{ return(text | float) }}
{% endmacro %}


{#- The view of the raw files skipped by this run: (dataset, file_path, reason) rows. -#}
{% macro create_skipped_files_view(relation, skipped, replace=false) %}
{%- if replace %}
    alter view {{ relation }} as
{%- else %}
    create or replace view {{ relation }} as
{%- endif %}
    select
        cast(dataset as string) as dataset,
        cast(file_path as string) as file_path,
        cast(reason as string) as reason
    from values {{ sql_rows(skipped) or '(null, null, null)' }}
        as skipped (dataset, file_path, reason)
    where file_path is not null
{% endmacro %}


{#- Whether `relation` exists as a view: one to replace in one step (`alter view`). -#}
{% macro is_view(relation) %}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {{ return(existing is not none and existing.is_view) }}
{% endmacro %}


{#- Rows of plain values as SQL: `('a', 'b'), ('c', 'd')`; '' for none. -#}
{% macro sql_rows(rows) %}
    {%- set rendered = [] -%}
    {%- for row in rows -%}
        {%- set values = [] -%}
        {%- for value in row -%}
            {%- do values.append(sql_string(value)) -%}
        {%- endfor -%}
        {%- do rendered.append('(' ~ values | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ return(rendered | join(', ')) }}
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


{% macro create_path_view(relation, location, file_format, shown_location=none, replace=false) %}
    {{ return(adapter.dispatch('create_path_view', 'ecom_analytics')(
        relation, location, file_format, shown_location or location, replace
    )) }}
{% endmacro %}

{% macro default__create_path_view(
    relation, location, file_format, shown_location, replace=false
) %}
    {%- do exceptions.raise_compiler_error(
        "create_path_view: reading " ~ file_format ~ " files by path is not implemented for "
        ~ adapter.type() ~ "; create " ~ relation ~ " over " ~ location ~ " yourself."
    ) -%}
{% endmacro %}

{#- Spark: besides the files' columns, where each row came from (`source_file_path`,
    `source_row_index`, from Spark's hidden `_metadata` column, which a view does not pass on
    unless it selects it): the staging models tell identical raw rows apart by it. A view over
    the mirror of a folder's good files names the files of the folder itself. An existing view
    is altered: `create or replace view` drops it before creating it again, and a query
    resolving it in between fails. -#}
{% macro spark__create_path_view(relation, location, file_format, shown_location, replace) %}
{%- if replace %}
    alter view {{ relation }} as
{%- else %}
    create or replace view {{ relation }} as
{%- endif %}
    select
        *,
        {{ shown_file_path(location, shown_location) }} as source_file_path,
        _metadata.row_index as source_row_index
    from {{ file_format }}.`{{ location | replace('`', '``') }}`
{% endmacro %}


{#- `_metadata.file_path`, or for a view over a mirror of links the same path in the folder
    it mirrors. -#}
{% macro shown_file_path(location, shown_location) %}
    {%- if shown_location == location -%}
        {{ return('_metadata.file_path') }}
    {%- endif -%}
    {%- set read = sql_string(location | replace('file://', '') ~ '/') -%}
    {%- set shown = sql_string(shown_location | replace('file://', '') ~ '/') -%}
    {{ return('replace(_metadata.file_path, ' ~ read ~ ', ' ~ shown ~ ')') }}
{% endmacro %}
