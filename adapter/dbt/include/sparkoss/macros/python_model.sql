{#
    Python epilogue of a dbt Python model on open-source Spark.

    Replaces dbt-spark's `py_write_table`, which always writes Delta and ignores the table
    layout configs. This one writes the DataFrame the model returns with the model's
    `file_format` (the session's default source, parquet, when unset), `partition_by`,
    `clustered_by` + `buckets` and `location_root`, exactly like the SQL `create table` of
    dbt-spark would. The table and incremental materializations of dbt-spark call it; the
    incremental one writes a `__dbt_tmp` table this way and then merges it with SQL.
#}
{% macro py_write_table(compiled_code, target_relation) -%}
{%- set file_format = config.get('file_format') -%}
{%- set partition_by = config.get('partition_by') -%}
{%- set clustered_by = config.get('clustered_by') -%}
{%- set buckets = config.get('buckets') -%}
{%- set location_root = config.get('location_root') -%}
{%- if partition_by is string -%}{%- set partition_by = [partition_by] -%}{%- endif -%}
{%- if clustered_by is string -%}{%- set clustered_by = [clustered_by] -%}{%- endif -%}
{%- if clustered_by and not buckets -%}
    {%- do exceptions.raise_compiler_error(
        "Python model '" ~ model.name ~ "' sets clustered_by without buckets; set both or neither."
    ) -%}
{%- endif -%}
{{ compiled_code }}


# --- dbt-spark-oss: materialize the model's result ---
def _dbt_sparkoss_as_spark_dataframe(result, session):
    if hasattr(result, "write") and hasattr(result, "schema"):
        return result
    if hasattr(result, "to_spark"):
        return result.to_spark()
    try:
        import pandas
    except ImportError:
        pandas = None
    if pandas is not None and isinstance(result, pandas.DataFrame):
        return session.createDataFrame(result)
    raise TypeError(
        f"model() returned {type(result).__name__}; return a Spark DataFrame, a pandas "
        "DataFrame or a pandas-on-Spark DataFrame"
    )


dbt = dbtObj(spark.table)
df = _dbt_sparkoss_as_spark_dataframe(model(dbt, spark), spark)
writer = df.write.mode("overwrite")
{%- if file_format %}
writer = writer.format({{ file_format | tojson }})
{%- endif %}
{%- if partition_by %}
writer = writer.partitionBy(*{{ partition_by | tojson }})
{%- endif %}
{%- if clustered_by %}
writer = writer.bucketBy({{ buckets | int }}, *{{ clustered_by | tojson }})
{%- endif %}
{%- if location_root %}
writer = writer.option("path", {{ (location_root ~ '/' ~ target_relation.identifier) | tojson }})
{%- endif %}
writer.saveAsTable({{ target_relation | string | tojson }})
{%- endmacro -%}
