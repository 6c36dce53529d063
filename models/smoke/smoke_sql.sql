select city_id, city_name from {{ ref('city_info') }}
