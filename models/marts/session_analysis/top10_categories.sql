{#-
    The task's ten leading categories (SPEC 3) by clicks, then orders, then payments of the
    matching sessions (ties: lower category_id first); fewer rows when fewer categories occur.
-#}
{%- set task = task_params() -%}

with

categories as (
    select * from {{ ref('int_categories_ranked') }}
),

final as (
    select
        {{ sql_value(task.task_id, 'string') }} as task_id,
        cast(category_rank as int) as rank,
        category_id,
        click_count,
        order_count,
        pay_count
    from categories
    where category_rank <= 10
)

select * from final
