-- Each sector's spread on each headline indicator: median and quartiles over the sector's
-- ranked bodies (quartile_cuts: cut on values, none for fewer than min_group_for_quartiles
-- bodies, with the reason), the same set of bodies the league table ranks.
with long as (
    unpivot (
        select h.*
        from {{ ref('indicators_headline') }} as h
        join {{ ref('int_scores') }} as s
            on s.body_code = h.body_code and strftime(s.end_month, '%Y-%m') = h.period
    )
    on {{ indicator_codes() | join(', ') }}
    into name indicator_code value indicator_value
)

select
    sector,
    indicator_code,
    {{ quartile_cuts('indicator_value') }},
    {{ quartile_note('count(indicator_value)') }} as quartile_note
from long
group by sector, indicator_code
