-- The national league table: one row per registered body with its headline indicators, the
-- Digital Progress Score and its ranks (see int_scores for the method), how sure those ranks
-- are, and its pace. How each column is made:
--   ranked              coverage at least the dictionary's threshold: ranked; otherwise shown
--                       with its figures, labelled "insufficient data", never ranked or counted
--   <indicator>_points  the indicator's points between its goalposts, 0-100 (ranked bodies);
--                       empty for an indicator of role reported, which is not in the score
--   services_assessed   the body's expected services with a current Digital Service Standard
--                       assessment at the publication month (int_current_assessments), of
--                       services_expected; services_assessed_share the one over the other
--   *_rank_label        the rank, with "=" when tied (e.g. "=3"); *_rank_tied says so as data
--   sector_rank_low/high  the 5th and 95th percentiles of the body's sector rank across the
--                       sensitivity analysis's variants (int_score_variants), widened if need
--                       be to hold the published rank
--   sector_quartile     1 (top) to 4, cut on score values over the sector's ranked bodies
--                       (quartile_cuts); none, with the reason, below min_group_for_quartiles
--   rank_movement       over the bodies ranked in both months only, last month's sector rank
--                       among them minus this month's: +2 = up two places; empty with the
--                       reason when the body was not ranked in both
--   pace_score          the score now minus the score 12 months before, in points: from the
--                       body's own returns only, so it compares across sectors
--   national_pace_rank  standard competition rank of pace_score over all bodies that have one
--   letters_prize       letters a year the body would not post at its sector's top-quartile
--                       letters per 1,000 transactions, at its own yearly transactions
with window_end as (
    select publication_month from {{ ref('int_publication_window') }}
),

current_scores as (
    select s.* from {{ ref('int_scores') }} as s
    join window_end as w on s.end_month = w.publication_month
),

previous_scores as (
    select s.* from {{ ref('int_scores') }} as s
    join window_end as w on s.end_month = cast(w.publication_month - interval 1 month as date)
),

year_before_scores as (
    select s.* from {{ ref('int_scores') }} as s
    join window_end as w on s.end_month = cast(w.publication_month - interval 12 month as date)
),

movement as (
    -- like with like: both months ranked over the same bodies
    select
        body_code,
        rank() over (partition by sector order by previous_score desc)
            - rank() over (partition by sector order by current_score desc) as rank_movement
    from (
        select c.body_code, c.sector, c.score as current_score, p.score as previous_score
        from current_scores as c
        join previous_scores as p using (body_code)
    )
),

score_cuts as (
    select sector, {{ quartile_cuts('score') }}
    from current_scores
    group by sector
),

rank_ranges as (
    select
        body_code,
        quantile_disc(sector_rank, {{ var('rank_range_percentiles')[0] }}) as sector_rank_low,
        quantile_disc(sector_rank, {{ var('rank_range_percentiles')[1] }}) as sector_rank_high
    from {{ ref('int_score_variants') }}
    group by body_code
),

pace_scores as (
    select
        c.body_code,
        round(c.score - y.score, 1) as pace_score
    from current_scores as c
    join year_before_scores as y using (body_code)
),

pace_ranks as (
    select
        body_code,
        pace_score,
        rank() over (order by pace_score desc) as national_pace_rank,
        count(*) over (partition by pace_score) > 1 as national_pace_rank_tied
    from pace_scores
),

letters_cuts as (
    select sector, lower_quartile as top_quartile_letters_per_1000
    from {{ ref('sector_benchmarks') }}
    where indicator_code = 'letters_per_1000'
),

scored as (
    -- which published indicators are in the score: the dictionary's role, one row
    select
        {%- for code in indicator_codes() %}
        bool_or(indicator_code = '{{ code }}' and role = 'score') as {{ code }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('stg_indicators') }}
),

points as (
    select r.body_code,
        {%- for code in indicator_codes() %}
        case when s.{{ code }} then 100 * r.{{ code }}_points end as {{ code }}_points
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_rolling_indicators') }} as r
    join current_scores as c on c.body_code = r.body_code and c.end_month = r.end_month
    cross join scored as s
),

assessed as (
    select
        e.body_code,
        count(*) as services_expected,
        count(e.standards_assessed) as services_assessed
    from {{ ref('int_expected_service_months') }} as e
    join window_end as w on e.period_month = w.publication_month
    group by e.body_code
),

progress_wide as (
    select
        body_code,
        {%- for code in indicator_codes() %}
        max(case when indicator_code = '{{ code }}' then pace end) as {{ code }}_pace,
        max(case when indicator_code = '{{ code }}' then direction end) as {{ code }}_direction,
        max(case when indicator_code = '{{ code }}' then target_status end)
            as {{ code }}_target_status,
        max(case when indicator_code = '{{ code }}' then status end) as {{ code }}_status
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('indicator_progress') }}
    group by body_code
)

select
    h.body_code,
    h.name_en,
    h.name_cy,
    h.sector,
    h.period,
    h.population,
    h.months_reported,
    h.coverage,
    c.body_code is not null as ranked,
    case when c.body_code is null then 'insufficient data' else 'ranked' end as ranking_status,
    {% for code in indicator_codes() %}h.{{ code }},
    {% endfor -%}
    {% for code in indicator_codes() %}pt.{{ code }}_points,
    {% endfor -%}
    c.score,
    c.sector_rank,
    c.sector_rank_tied,
    case when c.sector_rank_tied then '=' else '' end || c.sector_rank as sector_rank_label,
    c.sector_ranked_bodies,
    -- the range always holds the published rank itself
    least(rr.sector_rank_low, c.sector_rank) as sector_rank_low,
    greatest(rr.sector_rank_high, c.sector_rank) as sector_rank_high,
    c.national_rank,
    c.national_rank_tied,
    case when c.national_rank_tied then '=' else '' end || c.national_rank as national_rank_label,
    c.national_ranked_bodies,
    {{ quartile_of('c.score', 'q.lower_quartile', 'q.median', 'q.upper_quartile',
                   "'higher_is_better'") }} as sector_quartile,
    case when c.body_code is not null then {{ quartile_note('q.bodies_with_value') }} end
        as sector_quartile_note,
    m.rank_movement,
    case
        when c.body_code is null then 'not ranked'
        when m.body_code is null then 'not ranked last month'
    end as rank_movement_note,
    pr.pace_score,
    pr.national_pace_rank,
    case when pr.national_pace_rank_tied then '=' else '' end || pr.national_pace_rank
        as national_pace_rank_label,
    -- greatest() skips NULLs, so guard: no letters figure or no quartiles, no prize
    case when c.body_code is not null and h.letters_per_1000 is not null
            and l.top_quartile_letters_per_1000 is not null
        then greatest(0, h.letters_per_1000 - l.top_quartile_letters_per_1000)
            * h.transactions_a_year / 1000
    end as letters_prize,
    {% for code in indicator_codes() %}w.{{ code }}_pace,
    w.{{ code }}_direction,
    w.{{ code }}_target_status,
    w.{{ code }}_status,
    {% endfor -%}
    coalesce(a.services_expected, 0) as services_expected,
    coalesce(a.services_assessed, 0) as services_assessed,
    a.services_assessed / nullif(a.services_expected, 0) as services_assessed_share
from {{ ref('indicators_headline') }} as h
left join current_scores as c using (body_code)
left join movement as m using (body_code)
left join score_cuts as q on q.sector = h.sector
left join rank_ranges as rr using (body_code)
left join pace_ranks as pr using (body_code)
left join letters_cuts as l on l.sector = h.sector
left join points as pt using (body_code)
left join progress_wide as w using (body_code)
left join assessed as a using (body_code)
