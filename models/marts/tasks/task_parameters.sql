{#-
    The parameters of every task (SPEC 2), one row per `task_id`, as the run that built the
    task's marts checked them: what a dashboard shows next to a task's numbers. The lists are
    JSON arrays (e.g. `["Beijing","Wuhan"]`, `[]` for no filter), so every reader gets them
    whole. Incremental by task: the folder's config writes this task's partition and leaves
    every other task's rows as they are.
-#}

with

parameters as (
    select * from {{ ref('int_task_parameters') }}
),

final as (
    select
        task_id,
        sex,
        funnel_order,
        funnel_unit,
        to_json(professionals) as professionals,
        to_json(cities) as cities,
        to_json(keywords) as keywords,
        to_json(category_ids) as category_ids,
        to_json(target_page_flow) as target_page_flow,
        to_json(funnel_steps) as funnel_steps,
        start_age,
        end_age,
        extract_sessions,
        random_seed,
        funnel_window_seconds,
        start_date,
        end_date
    from parameters
)

select * from final
