{#
    The days a day-grained incremental model rebuilds (insert_overwrite of `action_date`
    partitions), chosen by the run's vars:

        run_date: 2026-11-20                                  one day
        backfill_start_date: ..., backfill_end_date: ...      an inclusive range
        lookback_days: N                                      also the N days before the window
        (none of them)                                        the newest day of the model's input

    On the first build of a model (its table does not exist yet) and with `--full-refresh` every
    day is built and the vars are not used. `run_date` and the backfill range exclude each
    other; a bad value stops the invocation at parse time with one line naming the var.

    A model filters what it reads with day_window_filter() (several inputs: day_window_bounds()
    once, then day_window_predicate() per input), so a daily run reads one day: on the raw
    `date` (a Hive partition folder) Spark prunes the folders of other days, and on a table
    partitioned by `action_date` the partitions of other days.
#}

{#- The window the vars ask for, checked: a dict of mode ('day' | 'range' | 'newest'),
    start_date / end_date ('yyyy-MM-dd', none in mode 'newest') and lookback_days (int). -#}
{% macro day_window() %}
    {%- set kind = 'daily-window var' -%}
    {%- set run_date = date_var('run_date', kind) -%}
    {%- set backfill_start = date_var('backfill_start_date', kind) -%}
    {%- set backfill_end = date_var('backfill_end_date', kind) -%}
    {%- set lookback_days = int_var('lookback_days', 0, 0, 3660, kind) -%}
    {%- if backfill_start or backfill_end -%}
        {%- if run_date -%}
            {%- do var_error('run_date', run_date,
                'no value with a backfill range (give one day or a range, not both)', kind) -%}
        {%- endif -%}
        {%- for name, value in [('backfill_start_date', backfill_start),
                                ('backfill_end_date', backfill_end)] if not value -%}
            {%- do var_error(name, value,
                'a date as yyyy-MM-dd: a backfill needs both backfill_start_date and'
                ~ ' backfill_end_date', kind) -%}
        {%- endfor -%}
        {%- if backfill_start > backfill_end -%}
            {%- do var_error('backfill_start_date', backfill_start,
                'a date on or before backfill_end_date (' ~ backfill_end ~ ')', kind) -%}
        {%- endif -%}
        {{ return({'mode': 'range', 'start_date': backfill_start, 'end_date': backfill_end,
                   'lookback_days': lookback_days}) }}
    {%- elif run_date -%}
        {{ return({'mode': 'day', 'start_date': run_date, 'end_date': run_date,
                   'lookback_days': lookback_days}) }}
    {%- endif -%}
    {{ return({'mode': 'newest', 'start_date': none, 'end_date': none,
               'lookback_days': lookback_days}) }}
{% endmacro %}


{#- The days this run rebuilds, resolved once per model: a dict of `whole` (true: the model is
    built whole, every day), `start_date` and `end_date` ('yyyy-MM-dd'; none when not whole and
    in mode 'newest' `upstream` holds no dated row). `upstream` is the relation the model reads
    and `date_expr` a date-typed expression over its columns: in mode 'newest' the window ends
    on its newest day (one query). Logs the window once; `include_undated` only words the log
    (the predicate keeps the undated rows, see day_window_predicate). A model that filters
    several inputs by one window resolves it here once and renders a predicate per input. -#}
{% macro day_window_bounds(upstream, date_expr, include_undated=false) %}
    {%- set window = day_window() -%}
    {#- unit tests render models too: log only for real builds -#}
    {%- set logging = execute and model.resource_type != 'unit_test' -%}
    {%- if not is_incremental() -%}
        {%- if logging -%}
            {%- do log(model.name ~ ": building every day (first build or --full-refresh)",
                   info=true) -%}
        {%- endif -%}
        {{ return({'whole': true, 'start_date': none, 'end_date': none}) }}
    {%- endif -%}
    {#- is_incremental() is false while parsing, so from here on queries may run -#}
    {%- set end_date = window.end_date -%}
    {%- if window.mode == 'newest' -%}
        {%- set end_date = run_query(
            'select cast(max(' ~ date_expr ~ ') as string) from ' ~ upstream
        ).columns[0].values()[0] -%}
        {%- if end_date is none -%}
            {%- if logging -%}
                {%- do log(model.name ~ ": no dated rows in " ~ upstream ~ ", no day to rebuild",
                       info=true) -%}
            {%- endif -%}
            {{ return({'whole': false, 'start_date': none, 'end_date': none}) }}
        {%- endif -%}
    {%- endif -%}
    {%- set start_date = (
        modules.datetime.datetime.strptime(window.start_date or end_date, '%Y-%m-%d').date()
        - modules.datetime.timedelta(days=window.lookback_days)
    ).isoformat() -%}
    {%- if logging -%}
        {%- do log(model.name ~ ": rebuilding the days " ~ start_date ~ " to " ~ end_date
               ~ (" and the undated rows" if include_undated else "")
               ~ " (" ~ window.mode ~ (", lookback " ~ window.lookback_days ~ " days"
                   if window.lookback_days else "") ~ ")", info=true) -%}
    {%- endif -%}
    {{ return({'whole': false, 'start_date': start_date, 'end_date': end_date}) }}
{% endmacro %}


{#- A SQL predicate that keeps the rows of the days in `bounds` (from day_window_bounds):
    `true` when the model is built whole, else `date_expr` within the days. With
    include_undated, rows whose `date_expr` is null are kept too, so a model can rebuild its
    partition of undated rows on every run. -#}
{% macro day_window_predicate(bounds, date_expr, include_undated=false) %}
    {%- if bounds.whole -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set undated = date_expr ~ ' is null' -%}
    {%- if bounds.end_date is none -%}
        {{ return('(' ~ undated ~ ')' if include_undated else 'false') }}
    {%- endif -%}
    {%- set predicate = date_expr ~ ' between ' ~ sql_value(bounds.start_date, 'date')
        ~ ' and ' ~ sql_value(bounds.end_date, 'date') -%}
    {{ return('(' ~ predicate ~ (' or ' ~ undated if include_undated else '') ~ ')') }}
{% endmacro %}


{#- The predicate a day-grained model puts on its one input: day_window_bounds of `upstream`
    rendered by day_window_predicate over `date_expr`. -#}
{% macro day_window_filter(upstream, date_expr, include_undated=false) %}
    {%- set bounds = day_window_bounds(upstream, date_expr, include_undated) -%}
    {{ return(day_window_predicate(bounds, date_expr, include_undated)) }}
{% endmacro %}
