-- Every published indicator (roles score and reported) for every registered body at every
-- month end, over its scope: the 12 months to that month (scope 'window': sums over the
-- window, so seasons balance out) or the month itself (scope 'month': the yes/no flags, the
-- standards met at the month's current assessments). Long format: one row per body, month and
-- indicator. How each column is made:
--   value          sum of numerators / sum of denominators over the service-months that give
--                  the measure (NULL over a zero denominator, when none gives it, or, for
--                  month scope, when no service-month of the month gives it: the flags of a
--                  body that sent no return for the month at all)
--   denominator    the sum of denominators: transactions, contacts or expected services
--   given_share    the share of the expected service-months in scope that gave the measure
--                  (for standards met: expected services with a current assessment)
--   small_numbers  the denominator is below the dictionary's min_denominator, or the measure
--                  was given for less than the dictionary's threshold share of the expected
--                  service-months (a measure given for a body's best services only): status u
--   points         mean points over the expected service-months in scope (not reported = 0),
--                  0 to 1; a small-numbers indicator, or one with nothing to average, scores 0:
--                  it never counts in a body's favour, and its weight is never re-scaled away
-- Sums are exact (exact_sum): the same data gives the same points whatever the threads.
with monthly as (
    select
        body_code, indicator_code, period_month,
        {{ exact_sum('numerator') }} as numerator,
        {{ exact_sum('denominator') }} as denominator,
        {{ exact_sum('points') }} as points,
        count(points) as scored_service_months,
        count(*) filter (where given) as given_service_months,
        count(*) as expected_service_months
    from {{ ref('int_indicator_points') }}
    group by body_code, indicator_code, period_month
),

grid as (
    select b.body_code, b.sector, c.period_month, d.indicator_code, d.scope, d.min_denominator,
        d.threshold as min_given_share
    from {{ ref('stg_bodies') }} as b
    cross join {{ ref('int_calendar') }} as c
    cross join {{ ref('stg_indicators') }} as d
    where d.role in ('score', 'reported')
),

rolling as (
    select
        g.body_code, g.sector, g.period_month as end_month, g.indicator_code, g.scope,
        g.min_denominator, g.min_given_share,
        m.numerator as month_numerator,
        m.denominator as month_denominator,
        m.points as month_points,
        coalesce(m.scored_service_months, 0) as month_scored,
        coalesce(m.given_service_months, 0) as month_given,
        coalesce(m.expected_service_months, 0) as month_expected,
        sum(coalesce(m.given_service_months, 0)) over window_rows as window_given,
        sum(coalesce(m.expected_service_months, 0)) over window_rows as window_expected,
        {{ exact_sum('m.numerator', over='window_rows') }} as window_numerator,
        {{ exact_sum('m.denominator', over='window_rows') }} as window_denominator,
        {{ exact_sum('m.points', over='window_rows') }} as window_points,
        sum(coalesce(m.scored_service_months, 0)) over window_rows as window_scored
    from grid as g
    left join monthly as m using (body_code, indicator_code, period_month)
    window window_rows as (
        partition by g.body_code, g.indicator_code order by g.period_month
        rows between {{ var('window_months') - 1 }} preceding and current row
    )
),

scoped as (
    select
        body_code, sector, end_month, indicator_code, min_denominator, min_given_share,
        case when scope = 'month' then month_given else window_given end
            / nullif(case when scope = 'month' then month_expected else window_expected end, 0)
            as given_share,
        -- a month with no return at all has no value (x), not "none of its services online"
        case when scope = 'month' then
            case when month_given > 0 then month_numerator end
            else window_numerator end as numerator,
        case when scope = 'month' then month_denominator else window_denominator end
            as denominator,
        case when scope = 'month' then month_points else window_points end as points_sum,
        case when scope = 'month' then month_scored else window_scored end as scored
    from rolling
)

select
    body_code,
    sector,
    end_month,
    strftime(end_month, '%Y-%m') as period,
    indicator_code,
    numerator / nullif(denominator, 0) as value,
    denominator,
    given_share,
    coalesce(denominator, 0) < min_denominator
        or coalesce(given_share < min_given_share, false) as small_numbers,
    case
        when coalesce(denominator, 0) < min_denominator or scored = 0 then 0.0
        else points_sum / scored
    end as points
from scoped
