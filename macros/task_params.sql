{#
    The analysis task (SPEC section 2): reads the task's dbt vars, checks every one and returns
    them normalised, so that no model pastes a raw var into SQL. A bad value stops the
    invocation at compile time (before anything is written) with one line that names the
    parameter and the accepted form; so does a `--vars` key the project does not declare (a
    misspelled filter would otherwise be ignored) or a `--vars` value holding Jinja (dbt would
    render it: `{{ 7*7 }}` would become 49).

    Returns a dict: task_id (str), start_date / end_date ('yyyy-MM-dd' or none = unbounded),
    start_age / end_age (int or none), professionals / cities / keywords (lists of str),
    sex ('male' | 'female' | none), category_ids (list of int), target_page_flow (list of int,
    at least two), extract_sessions (int >= 0), random_seed (int), and the funnel of
    funnel_conversion: funnel_steps (two to ten steps, each a dict: step (1-based), name (the
    step as given), kind ('page' | 'search' | 'click' | 'order' | 'pay'), value (an int id, a
    keyword, or none for `any`)), funnel_window_seconds (1 to 2592000), funnel_order
    ('ordered' | 'strict'), funnel_unit ('session' | 'user').
#}
{% macro task_params() %}
    {%- set cli_problem = adapter.cli_var_problem() -%}
    {%- if cli_problem -%}
        {%- do exceptions.raise_compiler_error(cli_problem) -%}
    {%- endif -%}
    {%- set task_id = var('task_id', 'default') | string | trim -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9][A-Za-z0-9_.-]{0,63}', task_id) -%}
        {%- do var_error('task_id', var('task_id', none),
            'an identifier of letters, digits, _ . - (at most 64 characters), e.g. t42') -%}
    {%- endif -%}

    {%- set start_date = date_var('start_date') -%}
    {%- set end_date = date_var('end_date') -%}
    {%- if start_date and end_date and start_date > end_date -%}
        {%- do var_error('start_date', start_date,
            'a date on or before end_date (' ~ end_date ~ ')') -%}
    {%- endif -%}

    {%- set start_age = int_var('start_age', none, 0, 200) -%}
    {%- set end_age = int_var('end_age', none, 0, 200) -%}
    {%- if start_age is not none and end_age is not none and start_age > end_age -%}
        {%- do var_error('start_age', start_age,
            'an age not above end_age (' ~ end_age ~ ')') -%}
    {%- endif -%}

    {%- set sex = var('sex', none) -%}
    {%- set sex = none if sex is none else (sex | string | trim | lower) -%}
    {%- if sex == '' -%}
        {%- set sex = none -%}
    {%- elif sex is not none and sex not in ['male', 'female'] -%}
        {%- do var_error('sex', var('sex'), "'male', 'female' or empty (no filter)") -%}
    {%- endif -%}

    {%- set target_page_flow = _task_int_list('target_page_flow', [1, 2, 3, 4, 5, 6, 7]) -%}
    {%- if target_page_flow | length < 2 -%}
        {%- do var_error('target_page_flow', var('target_page_flow', none),
            'a list of at least two page ids, e.g. [1, 2, 3]') -%}
    {%- endif -%}

    {%- set funnel_steps = _task_funnel_steps(target_page_flow) -%}
    {%- set funnel_order = _task_choice('funnel_order', 'ordered', ['ordered', 'strict']) -%}
    {%- set funnel_unit = _task_choice('funnel_unit', 'session', ['session', 'user']) -%}

    {{ return({
        'task_id': task_id,
        'start_date': start_date,
        'end_date': end_date,
        'start_age': start_age,
        'end_age': end_age,
        'professionals': _task_str_list('professionals'),
        'cities': _task_str_list('cities'),
        'sex': sex,
        'keywords': _task_str_list('keywords'),
        'category_ids': _task_int_list('category_ids', []),
        'target_page_flow': target_page_flow,
        'extract_sessions': int_var('extract_sessions', 100, 0, 1000000000),
        'random_seed': int_var('random_seed', 42, -9223372036854775808, 9223372036854775807),
        'funnel_steps': funnel_steps,
        'funnel_window_seconds': int_var('funnel_window_seconds', 1800, 1, 2592000),
        'funnel_order': funnel_order,
        'funnel_unit': funnel_unit,
    }) }}
{% endmacro %}


{% macro var_error(name, value, expected, kind='task parameter') %}
    {%- do exceptions.raise_compiler_error(
        "Invalid " ~ kind ~ " `" ~ name ~ "`: got " ~ (value | tojson) ~ "; expected "
        ~ expected ~ "."
    ) -%}
{% endmacro %}


{#- A date var as 'yyyy-MM-dd', or none when unset or empty. YAML may hand over a date. -#}
{% macro date_var(name, kind='task parameter') %}
    {%- set raw = var(name, none) -%}
    {%- set text = '' if raw is none else (raw | string | trim) -%}
    {%- if text == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parts = modules.re.fullmatch('([0-9]{4})-([0-9]{2})-([0-9]{2})', text) -%}
    {%- set valid = false -%}
    {%- if parts -%}
        {%- set year = parts.group(1) | int -%}
        {%- set month = parts.group(2) | int -%}
        {%- set day = parts.group(3) | int -%}
        {%- if 1000 <= year <= 9998 and 1 <= month <= 12 and day >= 1 -%}
            {%- set days_in_month = (
                modules.datetime.date(year + month // 12, month % 12 + 1, 1)
                - modules.datetime.date(year, month, 1)
            ).days -%}
            {%- set valid = day <= days_in_month -%}
        {%- endif -%}
    {%- endif -%}
    {%- if not valid -%}
        {%- do var_error(name, text, 'a date as yyyy-MM-dd, e.g. 2026-11-20', kind) -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}


{#- An integer var within [low, high]; `default` when unset or empty. -#}
{% macro int_var(name, default, low, high, kind='task parameter') %}
    {%- set raw = var(name, default) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if raw is sameas true or raw is sameas false
        or not modules.re.fullmatch('[+-]?[0-9]+', text) -%}
        {%- do var_error(name, raw, 'a whole number', kind) -%}
    {%- endif -%}
    {%- set number = text | int -%}
    {%- if number < low or number > high -%}
        {%- do var_error(name, raw, 'a whole number from ' ~ low ~ ' to ' ~ high, kind) -%}
    {%- endif -%}
    {{ return(number) }}
{% endmacro %}


{#- A list var as a list: a YAML list, or one comma-separated string; empty = []. -#}
{% macro _task_list(name, default) %}
    {%- set raw = var(name, default) -%}
    {%- if raw is none -%}
        {{ return([]) }}
    {%- elif raw is string -%}
        {%- set items = raw.split(',') -%}
    {%- elif raw is mapping -%}
        {%- do var_error(name, raw, 'a list, e.g. [a, b], or a comma-separated string') -%}
    {%- elif raw is iterable -%}
        {%- set items = raw -%}
    {%- else -%}
        {%- set items = [raw] -%}
    {%- endif -%}
    {%- set cleaned = [] -%}
    {%- for item in items -%}
        {%- if item is mapping or (item is iterable and item is not string) -%}
            {%- do var_error(name, raw, 'a flat list of values') -%}
        {%- endif -%}
        {%- if item is not none and (item | string | trim) != '' -%}
            {%- do cleaned.append(item) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(cleaned) }}
{% endmacro %}


{% macro _task_str_list(name) %}
    {%- set values = [] -%}
    {%- for item in _task_list(name, []) -%}
        {%- do values.append(item | string | trim) -%}
    {%- endfor -%}
    {{ return(values | unique | list) }}
{% endmacro %}


{% macro _task_int_list(name, default) %}
    {%- set values = [] -%}
    {%- for item in _task_list(name, default) -%}
        {%- set text = item | string | trim -%}
        {%- if item is sameas true or item is sameas false
            or not modules.re.fullmatch('[0-9]+', text) -%}
            {%- do var_error(name, var(name, default),
                'a list of non-negative whole numbers, e.g. [1, 2, 3]') -%}
        {%- endif -%}
        {%- do values.append(text | int) -%}
    {%- endfor -%}
    {{ return(values) }}
{% endmacro %}


{#- One of `choices` (case and surrounding spaces ignored); `default` when unset or empty. -#}
{% macro _task_choice(name, default, choices) %}
    {%- set raw = var(name, default) -%}
    {%- set text = '' if raw is none else (raw | string | trim | lower) -%}
    {%- if text == '' -%}
        {{ return(default) }}
    {%- elif text not in choices -%}
        {%- set quoted = [] -%}
        {%- for choice in choices -%}
            {%- do quoted.append("'" ~ choice ~ "'") -%}
        {%- endfor -%}
        {%- do var_error(name, raw, quoted[:-1] | join(', ') ~ ' or ' ~ quoted[-1]
            ~ ' (empty: ' ~ default ~ ')') -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}


{#-
    The funnel's steps (SPEC 3, funnel_conversion): `funnel_steps` as a list of dicts (step,
    name, kind, value), or the pages of target_page_flow when it is unset or empty. A step is
    a string `kind:value`: page:<id>, search:<keyword>, click:<category id>, order:<category id>
    or pay:<category id>, all but page also taking `any`; kinds and `any` in any case, spaces
    around the kind and the value ignored. Two to ten steps.
-#}
{% macro _task_funnel_steps(target_page_flow) %}
    {%- set given = _task_list('funnel_steps', []) | map('string') | map('trim') | list -%}
    {%- set names = given[:] -%}
    {%- if not given -%}
        {%- for page_id in target_page_flow -%}
            {%- do names.append('page:' ~ page_id) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set shown = var('funnel_steps') if given else names -%}
    {%- set example = 'e.g. [page:1, "search:tea set", click:any, order:any, pay:7]' -%}
    {%- if names | length < 2 or names | length > 10 -%}
        {%- do var_error('funnel_steps', shown,
            'a list of two to ten steps' ~ ('' if given else
            ' (unset, the funnel is the pages of target_page_flow: give funnel_steps)')
            ~ ', ' ~ example) -%}
    {%- endif -%}
    {%- set steps = [] -%}
    {%- for name in names -%}
        {%- set pieces = name.split(':', 1) -%}
        {%- set kind = pieces[0] | trim | lower if pieces | length == 2 else none -%}
        {%- set text = pieces[-1] | trim -%}
        {%- set is_any = kind != 'page' and text | lower == 'any' -%}
        {%- if kind == 'search' and text != '' -%}
            {%- set value = none if is_any else text -%}
        {%- elif kind in ['page', 'click', 'order', 'pay']
            and (is_any or modules.re.fullmatch('[0-9]{1,18}', text)) -%}
            {%- set value = none if is_any else text | int -%}
        {%- else -%}
            {%- do var_error('funnel_steps', name,
                'each step as kind:value: page:<page id>, search:<keyword>, click:<category id>,'
                ~ ' order:<category id> or pay:<category id> (all but page also take `any`), '
                ~ example) -%}
        {%- endif -%}
        {%- do steps.append({'step': loop.index, 'name': name, 'kind': kind, 'value': value}) -%}
    {%- endfor -%}
    {{ return(steps) }}
{% endmacro %}


{#- The task's date range as SQL conditions on a date column (none when unbounded). -#}
{% macro in_task_date_range(date_expr, task) %}
    {%- set conditions = [] -%}
    {%- if task.start_date is not none -%}
        {%- do conditions.append(date_expr ~ ' >= ' ~ sql_value(task.start_date, 'date')) -%}
    {%- endif -%}
    {%- if task.end_date is not none -%}
        {%- do conditions.append(date_expr ~ ' <= ' ~ sql_value(task.end_date, 'date')) -%}
    {%- endif -%}
    {{ return(conditions) }}
{% endmacro %}


{#- True when the task filters sessions (user, keyword or category filters), so that
    int_sessions_matched may hold fewer sessions than have actions in the date range. -#}
{% macro task_filters_sessions(task) %}
    {{ return(
        task_filters_users(task)
        or (task.keywords | length > 0) or (task.category_ids | length > 0)
    ) }}
{% endmacro %}


{#- True when the task filters sessions by their user (age, profession, home city or sex). -#}
{% macro task_filters_users(task) %}
    {{ return(
        task.start_age is not none or task.end_age is not none or task.sex is not none
        or (task.professionals | length > 0) or (task.cities | length > 0)
    ) }}
{% endmacro %}
