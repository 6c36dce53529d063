{#-
    The raw columns of an action as base_ecom__user_visit_actions names them (`raw_<column>`, the
    value as text). Two raw rows are exact copies when all of them are equal:
    stg_ecom__user_visit_actions numbers the copies by a `row_hash` of this list, and
    stg_ecom__quarantined_actions numbers its candidate rows by the list itself.
-#}
{% macro raw_action_columns() %}
    {{- return([
        'raw_date', 'raw_user_id', 'raw_session_id', 'raw_page_id', 'raw_action_time',
        'raw_search_keyword', 'raw_click_category_id', 'raw_click_product_id',
        'raw_order_category_ids', 'raw_order_product_ids', 'raw_pay_category_ids',
        'raw_pay_product_ids', 'raw_city_id',
    ]) -}}
{% endmacro %}
