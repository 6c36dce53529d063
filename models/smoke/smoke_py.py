def model(dbt, session):
    dbt.config(materialized="table", partition_by=["area"])
    return dbt.ref("city_info").groupBy("area").count()
