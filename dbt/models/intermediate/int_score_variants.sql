-- The sensitivity analysis behind the published rank ranges: the ranked bodies of the
-- publication month scored again under other reasonable choices, each a "variant":
--   published                     the published score (a check: it must equal it)
--   indicator_left_out            each score indicator left out in turn
--   weights_perturbed             sensitivity_weight_draws sets of weights, each weight times a
--                                 factor in [1 - spread, 1 + spread) from a seeded generator
--                                 (DuckDB's hash of seed, draw and indicator), re-normalised
--   other_normalisation           goalposts applied to the body's headline values rather than
--                                 service-month by service-month; and min-max within the sector
--                                 over ranked bodies (the method before November 2026)
-- Deterministic: the same warehouse and vars give the same variants (sums are exact_sum).
with window_end as (
    select publication_month from {{ ref('int_publication_window') }}
),

ranked as (
    select s.body_code, s.sector
    from {{ ref('int_scores') }} as s
    join window_end as w on s.end_month = w.publication_month
),

components as (
    select
        r.body_code, r.sector, i.indicator_code, i.points, i.value, i.small_numbers,
        d.weight, d.polarity, d.goal_worst, d.goal_best, d.name_en, d.name_cy
    from ranked as r
    cross join window_end as e
    join {{ ref('int_indicator_windows') }} as i
        on i.body_code = r.body_code and i.end_month = e.publication_month
    join {{ ref('stg_indicators') }} as d using (indicator_code)
    where d.role = 'score'  -- indicators only reported never enter a score, nor its variants
),

indicators as (
    select indicator_code, weight, name_en, name_cy
    from {{ ref('stg_indicators') }} where role = 'score'
),

weight_sets as (
    select 'published' as variant, 'published' as variant_group,
        'Published score' as description_en, 'Y sgôr a gyhoeddwyd' as description_cy,
        indicator_code, weight
    from indicators
    union all
    select 'without_' || o.indicator_code, 'indicator_left_out',
        'Without ' || o.name_en, 'Heb ' || o.name_cy,
        i.indicator_code, case when i.indicator_code = o.indicator_code then 0 else i.weight end
    from indicators as o cross join indicators as i
    union all
    select 'weights_' || lpad(cast(k.draw as varchar), 3, '0'), 'weights_perturbed',
        'Weights perturbed, draw ' || k.draw, 'Pwysau wedi''u newid, tyniad ' || k.draw,
        i.indicator_code,
        i.weight * (1 - {{ var('sensitivity_weight_spread') }}
            + 2 * {{ var('sensitivity_weight_spread') }}
            * (hash({{ var('sensitivity_seed') }}, k.draw, i.indicator_code) % 1000000)
            / 1000000.0)
    from range(1, {{ var('sensitivity_weight_draws') }} + 1) as k(draw)
    cross join indicators as i
),

weighted_variants as (
    select
        w.variant, w.variant_group, w.description_en, w.description_cy, c.body_code, c.sector,
        round(100 * {{ exact_sum('w.weight * c.points') }}
            / nullif({{ exact_sum('w.weight') }}, 0), 1) as score
    from components as c
    join weight_sets as w using (indicator_code)
    group by all
),

min_max as (
    select
        *,
        case
            when value is null then 0.0
            when max(value) over peers = min(value) over peers then 1.0
            when polarity = 'lower_is_better'
                then (max(value) over peers - value) / (max(value) over peers - min(value) over peers)
            else (value - min(value) over peers) / (max(value) over peers - min(value) over peers)
        end as min_max_points
    from components
    window peers as (partition by sector, indicator_code)
),

normalisation_variants as (
    select
        'goalposts_on_headline_values' as variant, 'other_normalisation' as variant_group,
        'Goalposts applied to the body''s headline values' as description_en,
        'Pyst gôl ar werthoedd pennawd y corff' as description_cy,
        body_code, sector,
        round(100 * {{ exact_sum("weight * case when small_numbers or value is null then 0.0
            else " ~ goalpost_points('value', 'goal_worst', 'goal_best') ~ " end") }}
            / nullif({{ exact_sum('weight') }}, 0), 1) as score
    from components
    group by all
    union all
    select
        'min_max_in_sector', 'other_normalisation',
        'Min-max within the sector over ranked bodies (the previous method)',
        'Isaf-uchaf o fewn y sector dros y cyrff a restrwyd (y dull blaenorol)',
        body_code, sector,
        round(100 * {{ exact_sum('weight * min_max_points') }}
            / nullif({{ exact_sum('weight') }}, 0), 1)
    from min_max
    group by all
),

variants as (
    select
        *,
        row_number() over (partition by variant order by score desc, body_code) as place
    from (
        select * from weighted_variants
        union all
        select * from normalisation_variants
    )
)

select
    variant, variant_group, description_en, description_cy, body_code, sector, score,
    rank() over (partition by variant, sector order by score desc) as sector_rank,
    rank() over (partition by variant order by score desc) as national_rank,
    -- Spearman's rho needs tied bodies to share the mean of the places they occupy
    avg(place) over (partition by variant, score) as national_mean_rank
from variants
