-- The Digital Progress Score and its ranks, for every body and month (so last month's ranks are
-- at hand for movement). The method, step by step:
--   1. eligible: coverage of expected returns at least the dictionary's threshold. Bodies below
--      it keep their figures but are not scored, ranked or counted ("insufficient data").
--   2. each indicator's points (0-1) come from fixed goalposts in the dictionary, service-month
--      by service-month (int_indicator_points, int_indicator_windows): nothing about any other
--      body enters a body's score.
--   3. score = 100 x the weighted mean of the points, with the dictionary's weights, always over
--      every score indicator: an indicator without points scores 0, its weight is never dropped.
--      Indicators of role `reported` are published beside the score and never enter it.
--   4. standard competition ranking (1, 2, 2, 4) of the score at its published precision (one
--      decimal), within the sector and nationally: scores on fixed goalposts compare across
--      sectors.
with threshold as (
    select threshold as min_coverage from {{ ref('stg_indicators') }}
    where indicator_code = 'coverage'
),

weighted as (
    select
        w.body_code,
        w.end_month,
        -- exact sums: the same data ranks the same whatever the threads (exact_sum)
        {{ exact_sum('d.weight * w.points') }} / nullif({{ exact_sum('d.weight') }}, 0)
            as weighted_points
    from {{ ref('int_indicator_windows') }} as w
    join {{ ref('stg_indicators') }} as d using (indicator_code)
    where d.role = 'score'
    group by w.body_code, w.end_month
),

scores as (
    select r.body_code, r.sector, r.end_month, round(100 * w.weighted_points, 1) as score
    from {{ ref('int_rolling_indicators') }} as r
    join weighted as w using (body_code, end_month)
    cross join threshold as t
    where r.coverage >= t.min_coverage
)

select
    body_code,
    sector,
    end_month,
    score,
    rank() over (partition by sector, end_month order by score desc) as sector_rank,
    count(*) over (partition by sector, end_month, score) > 1 as sector_rank_tied,
    count(*) over (partition by sector, end_month) as sector_ranked_bodies,
    rank() over (partition by end_month order by score desc) as national_rank,
    count(*) over (partition by end_month, score) > 1 as national_rank_tied,
    count(*) over (partition by end_month) as national_ranked_bodies
from scores
