{#- Raw files this run skipped as unreadable, with the reason (create_raw_relations). -#}
with

skipped as (
    select * from {{ source('ecom_raw', 'quarantined_raw_files') }}
),

final as (
    select
        dataset,
        file_path,
        reason
    from skipped
)

select * from final
