-- How far each variant of the sensitivity analysis (int_score_variants) agrees with the
-- published national order of ranked bodies: Spearman's rho, the correlation of the two
-- orders' places, tied bodies sharing the mean of their places. 1 = the same order.
with published as (
    select body_code, national_mean_rank from {{ ref('int_score_variants') }}
    where variant = 'published'
)

select
    v.variant,
    v.variant_group,
    v.description_en,
    v.description_cy,
    -- rounded so that the same order gives exactly 1, not 1.0000000000000002
    round(corr(v.national_mean_rank, p.national_mean_rank), 6) as spearman_rho,
    count(*) as ranked_bodies
from {{ ref('int_score_variants') }} as v
join published as p using (body_code)
group by v.variant, v.variant_group, v.description_en, v.description_cy
