{#- One definition of quartiles, shared by the league table, the sector benchmarks and the
    extracts: cut on values over a group's ranked bodies, continuous quantiles (as a
    spreadsheet's QUARTILE.INC), and only for groups of at least min_group_for_quartiles bodies
    (fewer give no quartiles at all, not misleading ones). Use inside an aggregate query. -#}
{% macro quartile_cuts(value) -%}
    count({{ value }}) as bodies_with_value,
    case when count({{ value }}) >= {{ var('min_group_for_quartiles') }}
        then quantile_cont({{ value }}, 0.25) end as lower_quartile,
    case when count({{ value }}) >= {{ var('min_group_for_quartiles') }}
        then quantile_cont({{ value }}, 0.5) end as median,
    case when count({{ value }}) >= {{ var('min_group_for_quartiles') }}
        then quantile_cont({{ value }}, 0.75) end as upper_quartile
{%- endmacro %}

{#- Which quartile a value falls in, 1 the best: at or beyond the better quartile cut is 1, at
    or beyond the median 2, at or beyond the worse cut 3, else 4. -#}
{% macro quartile_of(value, lower, median, upper, polarity) -%}
    case
        when {{ value }} is null or {{ median }} is null then null
        when {{ polarity }} = 'lower_is_better' then
            case when {{ value }} <= {{ lower }} then 1 when {{ value }} <= {{ median }} then 2
                 when {{ value }} <= {{ upper }} then 3 else 4 end
        else
            case when {{ value }} >= {{ upper }} then 1 when {{ value }} >= {{ median }} then 2
                 when {{ value }} >= {{ lower }} then 3 else 4 end
    end
{%- endmacro %}

{#- Why a group has no quartiles, or NULL when it has them. -#}
{% macro quartile_note(bodies) -%}
    case when {{ bodies }} < {{ var('min_group_for_quartiles') }}
        then 'fewer than {{ var('min_group_for_quartiles') }} ranked bodies' end
{%- endmacro %}
