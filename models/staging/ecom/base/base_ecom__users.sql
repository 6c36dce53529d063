{{ config(materialized='table') }}

{#-
    Every raw user row, typed, with the first contract rule it breaks (`quarantine_reason`,
    null for a clean row). A user id given twice with different attributes is ambiguous, so all
    its rows are quarantined; exact copies keep one row.

    A table, unlike the other staging models: the checks need three windows over all the raw
    rows, and the clean users and the quarantine are two views over this one result instead of
    two tables that each ran them (docs/performance.md, tuning log).
-#}
with

source as (
    select * from {{ source('ecom_raw', 'user_info') }}
),

as_text as (
    select
        cast(user_id as string) as raw_user_id,
        cast(username as string) as raw_username,
        cast(name as string) as raw_name,
        cast(age as string) as raw_age,
        cast(professional as string) as raw_professional,
        cast(city as string) as raw_city,
        cast(sex as string) as raw_sex
    from source
),

typed as (
    select
        *,
        {{ try_cast('raw_user_id', 'bigint') }} as user_id,
        nullif(trim(raw_username), '') as username,
        nullif(trim(raw_name), '') as name,
        {{ try_cast('raw_age', 'int') }} as age,
        nullif(trim(raw_professional), '') as professional,
        nullif(trim(raw_city), '') as city,
        lower(trim(raw_sex)) as sex
    from as_text
),

counted as (
    select
        *,
        row_number() over (
            partition by user_id, username, name, age, professional, city, sex
            order by raw_user_id
        ) as copy_number,
        count(*) over (partition by user_id) as rows_of_user_id,
        count(*) over (
            partition by user_id, username, name, age, professional, city, sex
        ) as copies_of_row
    from typed
),

checked as (
    select
        *,
        case
            when user_id is null then 'null_user_id'
            when rows_of_user_id > copies_of_row then 'conflicting_user_id'
            when age is null or age < 0 or age > 150 then 'invalid_age'
            when sex is null or sex not in ('male', 'female') then 'invalid_sex'
            when copy_number > 1 then 'duplicate'
        end as quarantine_reason
    from counted
),

final as (
    select * from checked
)

select * from final
