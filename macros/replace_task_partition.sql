{#-
    The task-keyed marts (tables partitioned by task_id alone) replace their task's partition
    in one statement, so that a reader sees the task's old rows or its new ones, never none
    (also when a build is killed half-way). dbt-spark's insert_overwrite in dynamic mode
    replaces only the partitions the new rows fall in, and keeps a task's old rows when its new
    result is empty (a filter that now matches nothing). So the new rows are cached first; when
    there are some, one `insert overwrite` replaces the partition at commit, and when there are
    none, one `alter table ... drop partition` empties it. Every other model keeps dbt-spark's
    statement.
-#}
{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- if config.get('partition_by') in ['task_id', ['task_id']] -%}
        {{ return(replace_task_partition_sql(source_relation, target_relation)) }}
    {%- endif -%}
    {{ return(dbt.get_insert_overwrite_sql(
        source_relation, target_relation, existing_relation
    )) }}
{% endmacro %}


{% macro replace_task_partition_sql(source_relation, target_relation) %}
    {%- set staged = task_rows_relation(target_relation) -%}
    {%- do run_query('cache table ' ~ staged ~ ' as select * from ' ~ source_relation) -%}
    {%- set any_row = run_query('select 1 from ' ~ staged ~ ' limit 1') -%}
    {%- if any_row | length == 0 -%}
        {{ return(
            'alter table ' ~ target_relation ~ ' drop if exists partition (task_id = '
            ~ sql_string(task_params().task_id) ~ ')'
        ) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(target_relation)
        | map(attribute='quoted') | join(', ') -%}
    {{ return(
        'insert overwrite table ' ~ target_relation ~ ' partition (task_id) select '
        ~ columns ~ ' from ' ~ staged
    ) }}
{% endmacro %}


{#- The session's cached copy of a task-keyed mart's new rows (a temporary view). -#}
{% macro task_rows_relation(target_relation) %}
    {{ return(api.Relation.create(identifier=target_relation.identifier ~ '__task_rows')) }}
{% endmacro %}


{#- Post-hook of the task-keyed marts: frees the cached new rows once they are written
    (dropping the temporary view uncaches its rows). -#}
{% macro release_task_rows() %}
    {%- if execute -%}
        drop view if exists {{ task_rows_relation(this) }}
    {%- endif -%}
{% endmacro %}
