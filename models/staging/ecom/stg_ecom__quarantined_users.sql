{#- Raw user rows that break the contract of SPEC 1.1, as they came, with the reason. -#}
with

validated as (
    select * from {{ ref('base_ecom__users') }}
),

final as (
    select
        quarantine_reason,
        raw_user_id,
        raw_username,
        raw_name,
        raw_age,
        raw_professional,
        raw_city,
        raw_sex
    from validated
    where quarantine_reason is not null
)

select * from final
