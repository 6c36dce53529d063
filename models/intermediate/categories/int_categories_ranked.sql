{#-
    Every category the task's matching sessions clicked, ordered or paid, with its counts and
    its rank (SPEC 3): click count, then order count, then pay count, all descending, then
    category_id ascending, so no two categories share a rank.
-#}
with

category_actions as (
    select * from {{ ref('int_category_actions_exploded') }}
),

counted as (
    select
        category_id,
        sum(case when action_type = 'click' then 1 else 0 end) as click_count,
        sum(case when action_type = 'order' then 1 else 0 end) as order_count,
        sum(case when action_type = 'pay' then 1 else 0 end) as pay_count
    from category_actions
    group by category_id
),

ranked as (
    select
        category_id,
        row_number() over (
            order by click_count desc, order_count desc, pay_count desc, category_id asc
        ) as category_rank,
        click_count,
        order_count,
        pay_count
    from counted
),

final as (
    select * from ranked
)

select * from final
