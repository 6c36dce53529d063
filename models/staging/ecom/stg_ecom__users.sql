{#- The clean users, one row per user_id. -#}
with

validated as (
    select * from {{ ref('base_ecom__users') }}
),

final as (
    select
        user_id,
        username,
        name,
        professional,
        city,
        sex,
        age
    from validated
    where quarantine_reason is null
)

select * from final
