{#-
    Pre-hook of the task-keyed marts: on an incremental run, drops the current task's
    partition before the model writes it. insert_overwrite replaces only the partitions the
    new rows fall in, so without this a task whose new result is empty (a filter that now
    matches nothing) would keep its old rows. If the model then fails, the task has no rows
    until it runs again: never stale rows, never a mix of old and new.
-#}
{% macro clear_task_partition() %}
    {%- if execute and is_incremental() -%}
        {{ return(adapter.dispatch('clear_task_partition', 'ecom_analytics')()) }}
    {%- endif -%}
{% endmacro %}

{% macro spark__clear_task_partition() -%}
    alter table {{ this }}
    drop if exists partition (task_id = {{ sql_string(task_params().task_id) }})
{%- endmacro %}

{% macro default__clear_task_partition() -%}
    delete from {{ this }} where task_id = {{ sql_value(task_params().task_id, 'string') }}
{%- endmacro %}
