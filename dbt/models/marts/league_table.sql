-- The national league table: one row per registered body, ranked within its sector by the
-- Digital Progress Score. How the score is made (see the methodology):
--   1. each indicator is scaled within the sector: (value - sector min) / (sector max - sector min),
--      turned round for indicators where lower is better, so 1 is the sector's best and 0 its worst;
--      when every body in the sector has the same value, each scores 1 (nobody is behind);
--   2. the score is 100 x the weighted mean of the scaled indicators, with the weights of the
--      indicator dictionary, over the indicators the body has (weights of missing ones are left out);
--   3. ranks are standard competition ranks (1, 2, 2, 4) of the score at its published precision
--      (one decimal); a body with no indicator has no score and no rank.
with headline as (
    select * from {{ ref('indicators_headline') }}
),

long as (
    unpivot headline
    on {{ indicator_codes() | join(', ') }}
    into name indicator_code value indicator_value
),

scaled as (
    select
        l.body_code,
        l.sector,
        d.weight,
        case
            when max(l.indicator_value) over sector_indicator
                = min(l.indicator_value) over sector_indicator then 1.0
            when d.polarity = 'lower_is_better'
                then (max(l.indicator_value) over sector_indicator - l.indicator_value)
                    / (max(l.indicator_value) over sector_indicator
                       - min(l.indicator_value) over sector_indicator)
            else (l.indicator_value - min(l.indicator_value) over sector_indicator)
                / (max(l.indicator_value) over sector_indicator
                   - min(l.indicator_value) over sector_indicator)
        end as scaled_value
    from long as l
    join {{ ref('stg_indicators') }} as d using (indicator_code)
    where l.indicator_value is not null
    window sector_indicator as (partition by l.sector, l.indicator_code)
),

scores as (
    select body_code, round(100 * sum(weight * scaled_value) / sum(weight), 1) as score
    from scaled
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
    h.online_take_up,
    h.online_availability,
    h.digital_by_default_rate,
    h.letters_per_1000,
    h.digital_contact_share,
    s.score,
    case when s.score is not null
        then rank() over (partition by h.sector order by s.score desc nulls last)
    end as sector_rank,
    count(s.score) over (partition by h.sector) as sector_ranked_bodies
from headline as h
left join scores as s using (body_code)
