{#-
    The columns of a raw action as the source gives them (SPEC 1.1, in file order). Two raw rows
    are exact copies when all of them are equal: base_ecom__user_visit_actions hashes them
    (`raw_row_hash`, in their own types, so typed files are not turned into text first; only
    the `date` folder, whose type Spark guesses from the folder names, hashes as text).
-#}
{% macro source_action_columns() %}
    {{- return([
        'date', 'user_id', 'session_id', 'page_id', 'action_time', 'search_keyword',
        'click_category_id', 'click_product_id', 'order_category_ids', 'order_product_ids',
        'pay_category_ids', 'pay_product_ids', 'city_id',
    ]) -}}
{% endmacro %}
