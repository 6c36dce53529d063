{#-
    The raw columns of an action as base_ecom__user_visit_actions names them (`raw_<column>`, the
    value as text). Two raw rows are exact copies when all of them are equal: the staging models
    number the copies with a window partitioned by this list.
-#}
{% macro raw_action_columns() %}
    {{- return([
        'raw_date', 'raw_user_id', 'raw_session_id', 'raw_page_id', 'raw_action_time',
        'raw_search_keyword', 'raw_click_category_id', 'raw_click_product_id',
        'raw_order_category_ids', 'raw_order_product_ids', 'raw_pay_category_ids',
        'raw_pay_product_ids', 'raw_city_id',
    ]) -}}
{% endmacro %}
