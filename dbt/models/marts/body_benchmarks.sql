-- Each body's headline indicators beside its sector's median and quartiles over ranked bodies:
-- one row per registered body and indicator, in the order of the indicator dictionary.
with long as (
    -- include nulls: a body without a value still gets its row, shown empty
    select *
    from {{ ref('indicators_headline') }}
    unpivot include nulls (
        indicator_value for indicator_code in (
            {{ indicator_codes() | join(', ') }}
        )
    )
)

select
    l.body_code,
    l.sector,
    l.period,
    l.indicator_code,
    d.name_en as indicator_name_en,
    d.name_cy as indicator_name_cy,
    d.unit,
    d.polarity,
    l.indicator_value as value,
    b.median as sector_median,
    b.lower_quartile as sector_lower_quartile,
    b.upper_quartile as sector_upper_quartile,
    coalesce(b.bodies_with_value, 0) as sector_bodies_with_value,
    {{ quartile_of('l.indicator_value', 'b.lower_quartile', 'b.median', 'b.upper_quartile',
                   'd.polarity') }} as sector_quartile,
    -- the sector's own note, from the same count; a sector without a benchmark row has 0 bodies
    {{ quartile_note('coalesce(b.bodies_with_value, 0)') }} as sector_quartile_note
from long as l
join {{ ref('stg_indicators') }} as d using (indicator_code)
left join {{ ref('sector_benchmarks') }} as b using (sector, indicator_code)
