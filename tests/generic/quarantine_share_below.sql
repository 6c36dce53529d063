{#-
    Fails when the model (a quarantine) holds more than `max_share` of the rows of
    `source_model` (what was validated): a small share of dirty rows is real life, a large one
    means a broken feed or a wrong ECOM_RAW_DIR.
-#}
{% test quarantine_share_below(model, source_model, max_share) %}

with

quarantined as (
    select count(*) as row_count from {{ model }}
),

validated as (
    select count(*) as row_count from {{ source_model }}
),

final as (
    select
        quarantined.row_count as quarantined_rows,
        validated.row_count as validated_rows,
        quarantined.row_count / validated.row_count as quarantined_share
    from quarantined
    cross join validated
    where
        validated.row_count > 0
        and quarantined.row_count > {{ max_share }} * validated.row_count
)

select * from final

{% endtest %}
