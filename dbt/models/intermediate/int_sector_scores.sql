-- The Digital Progress Score and rank within sector, for every body and month (so the previous
-- month's rank is at hand for movement). The method, step by step:
--   1. eligible: coverage at least the dictionary's threshold and at least one indicator. Bodies
--      below it keep their figures but are not scored, ranked or counted ("insufficient data"),
--      and do not move the sector's minimum or maximum either.
--   2. each indicator is scaled within the sector over eligible bodies: (value - min) /
--      (max - min), turned round where lower is better, so 1 is the sector's best and 0 its
--      worst; when every eligible body has the same value, each scores 1 (nobody is behind).
--   3. score = 100 x the weighted mean of a body's scaled indicators, weights from the
--      dictionary, over the indicators it has (a missing indicator's weight is left out, not 0).
--   4. standard competition ranking (1, 2, 2, 4) on the score at its published precision (one
--      decimal), within the sector.
with threshold as (
    select threshold as min_coverage from {{ ref('stg_indicators') }}
    where indicator_code = 'coverage'
),

long as (
    select body_code, sector, end_month, indicator_code, indicator_value
    from (
        select r.*
        from {{ ref('int_rolling_indicators') }} as r, threshold as t
        where r.coverage >= t.min_coverage
    )
    unpivot (indicator_value for indicator_code in ({{ indicator_codes() | join(', ') }}))
),

scaled as (
    select
        l.body_code,
        l.sector,
        l.end_month,
        d.weight,
        case
            when max(l.indicator_value) over peers = min(l.indicator_value) over peers then 1.0
            when d.polarity = 'lower_is_better'
                then (max(l.indicator_value) over peers - l.indicator_value)
                    / (max(l.indicator_value) over peers - min(l.indicator_value) over peers)
            else (l.indicator_value - min(l.indicator_value) over peers)
                / (max(l.indicator_value) over peers - min(l.indicator_value) over peers)
        end as scaled_value
    from long as l
    join {{ ref('stg_indicators') }} as d using (indicator_code)
    window peers as (partition by l.sector, l.end_month, l.indicator_code)
),

scores as (
    select
        body_code,
        sector,
        end_month,
        round(100 * sum(weight * scaled_value) / nullif(sum(weight), 0), 1) as score
    from scaled
    group by body_code, sector, end_month
)

select
    body_code,
    sector,
    end_month,
    score,
    rank() over sector_month as sector_rank,
    count(*) over (partition by sector, end_month, score) > 1 as sector_rank_tied,
    count(*) over (partition by sector, end_month) as sector_ranked_bodies
from scores
where score is not null
window sector_month as (partition by sector, end_month order by score desc)
