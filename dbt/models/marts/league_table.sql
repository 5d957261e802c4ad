-- The national league table: one row per registered body with its headline indicators, the
-- Digital Progress Score and rank within its sector (see int_sector_scores for the method), and
-- its pace. How each column is made:
--   ranked              coverage at least the dictionary's threshold: ranked; otherwise shown
--                       with its figures, labelled "insufficient data", never ranked or counted
--   sector_rank_label   the rank, with "=" when tied (e.g. "=3")
--   sector_quartile     1 (top) to 4 over ranked bodies: 1 + floor(4 x (rank - 1) / ranked)
--   rank_movement       last month's rank minus this month's: +2 = up two places
--   pace_score          0-100, comparable across sectors: each indicator's pace made "higher is
--                       better" (by polarity), scaled nationally over ranked bodies from the
--                       slowest (0) to the fastest (1), all equal -> 1; weighted mean x 100
--   national_pace_rank  standard competition rank of pace_score over all ranked bodies
--   letters_prize       letters a year the body would not post at its sector's top-quartile
--                       letters per 1,000 (the 25th percentile of ranked bodies), x population
with window_end as (
    select publication_month from {{ ref('int_publication_window') }}
),

current_scores as (
    select s.* from {{ ref('int_sector_scores') }} as s
    join window_end as w on s.end_month = w.publication_month
),

previous_scores as (
    select s.* from {{ ref('int_sector_scores') }} as s
    join window_end as w on s.end_month = cast(w.publication_month - interval 1 month as date)
),

progress as (
    select * from {{ ref('indicator_progress') }}
),

better_pace as (
    -- pace turned so that higher is always better
    select
        p.body_code,
        p.indicator_code,
        d.weight,
        p.pace * case when d.polarity = 'higher_is_better' then 1 else -1 end as pace
    from progress as p
    join current_scores as c using (body_code)
    join {{ ref('stg_indicators') }} as d using (indicator_code)
    where p.pace is not null
),

pace_scaled as (
    select
        body_code,
        weight,
        case
            when max(pace) over by_indicator = min(pace) over by_indicator then 1.0
            else (pace - min(pace) over by_indicator)
                / (max(pace) over by_indicator - min(pace) over by_indicator)
        end as scaled_pace
    from better_pace
    window by_indicator as (partition by indicator_code)
),

pace_scores as (
    select body_code, round(100 * sum(weight * scaled_pace) / nullif(sum(weight), 0), 1)
        as pace_score
    from pace_scaled
    group by body_code
),

pace_ranks as (
    select
        body_code,
        pace_score,
        rank() over (order by pace_score desc) as national_pace_rank,
        count(*) over (partition by pace_score) > 1 as national_pace_rank_tied
    from pace_scores
    where pace_score is not null
),

top_quartile_letters as (
    select h.sector, quantile_cont(h.letters_per_1000, 0.25) as top_quartile_letters_per_1000
    from {{ ref('indicators_headline') }} as h
    join current_scores using (body_code)
    where h.letters_per_1000 is not null
    group by h.sector
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
    from progress
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
    c.score,
    c.sector_rank,
    case when c.sector_rank_tied then '=' else '' end || c.sector_rank as sector_rank_label,
    c.sector_ranked_bodies,
    1 + floor(4 * (c.sector_rank - 1) / c.sector_ranked_bodies)::integer as sector_quartile,
    p.sector_rank - c.sector_rank as rank_movement,
    pr.pace_score,
    pr.national_pace_rank,
    case when pr.national_pace_rank_tied then '=' else '' end || pr.national_pace_rank
        as national_pace_rank_label,
    -- greatest() skips NULLs, so guard: no letters figure, no prize
    case when h.letters_per_1000 is not null and q.top_quartile_letters_per_1000 is not null
        then greatest(0, h.letters_per_1000 - q.top_quartile_letters_per_1000)
            * h.population / 1000
    end as letters_prize,
    {% for code in indicator_codes() %}w.{{ code }}_pace,
    w.{{ code }}_direction,
    w.{{ code }}_target_status,
    w.{{ code }}_status{% if not loop.last %},
    {% endif %}{% endfor %}
from {{ ref('indicators_headline') }} as h
left join current_scores as c using (body_code)
left join previous_scores as p using (body_code)
left join pace_ranks as pr using (body_code)
left join top_quartile_letters as q on q.sector = h.sector
left join progress_wide as w using (body_code)
