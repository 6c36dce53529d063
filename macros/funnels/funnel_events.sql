{#-
    The events of the task's funnel (SPEC 3, funnel_conversion): which step an action matches,
    and the one order of a unit's events.
-#}

{#- SQL condition: an action (a row of stg_ecom__user_visit_actions) matches the step. -#}
{% macro funnel_step_condition(step) %}
    {%- if step.kind == 'page' -%}
        {{ return('page_id = ' ~ sql_value(step.value, 'bigint')) }}
    {%- elif step.kind == 'search' -%}
        {{ return('search_keyword is not null' if step.value is none
            else 'search_keyword = ' ~ sql_string(step.value)) }}
    {%- elif step.kind == 'click' -%}
        {#- staging keeps an absent click (-1 in the raw data) as null -#}
        {{ return('click_category_id is not null' if step.value is none
            else 'click_category_id = ' ~ sql_value(step.value, 'bigint')) }}
    {%- elif step.kind in ['order', 'pay'] -%}
        {%- set ids = step.kind ~ '_category_ids' -%}
        {{ return(ids ~ ' is not null' if step.value is none
            else array_has(ids, sql_value(step.value, 'bigint'))) }}
    {%- endif -%}
    {%- do exceptions.raise_compiler_error('funnel_step_condition: unknown kind ' ~ step.kind) -%}
{% endmacro %}


{#- SQL int: the steps an action matches as bits, step k as 2^(k-1) (0 when none). -#}
{% macro funnel_step_mask(steps) %}
    {%- set terms = [] -%}
    {%- for step in steps -%}
        {%- do terms.append(
            'case when ' ~ funnel_step_condition(step) ~ ' then ' ~ 2 ** (step.step - 1)
            ~ ' else 0 end'
        ) -%}
    {%- endfor -%}
    {{ return('cast(' ~ terms | join(' + ') ~ ' as int)') }}
{% endmacro %}


{#- SQL condition on an event of int_funnel_events_matched: it matches step `step_number`. -#}
{% macro funnel_step_matches(step_number) %}
    {{ return('(step_mask & ' ~ 2 ** (step_number - 1) ~ ') != 0') }}
{% endmacro %}


{#-
    The order of a unit's events (SPEC 3): `action_time`, then `page_id`, then the other
    columns of SPEC 1.1 in their order, nulls first (the id lists as their text), leaving out
    those every event of a unit shares: the unit (`session_id` or `user_id`) and the day (the
    day of `action_time`). The columns of int_funnel_events_matched, first to last key.
-#}
{% macro funnel_event_order(unit) %}
    {{ return([
        'action_time',
        'page_id',
        'user_id' if unit == 'session' else 'session_id',
        'search_keyword',
        'click_category_id',
        'click_product_id',
        'order_category_list',
        'order_product_list',
        'pay_category_list',
        'pay_product_list',
        'city_id',
    ]) }}
{% endmacro %}
