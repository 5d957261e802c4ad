-- Fails if the dictionary's published indicators (roles score and reported), the models'
-- indicator columns (macros/indicator_codes.sql, generated from the dictionary: stale if it
-- differs) and the formulas (macros/indicator_formulas.sql) disagree, if the score has no
-- indicator or one of role reported has a weight, or if the coverage threshold is missing.
with in_models as (
    {% for code in indicator_codes() %}
    select '{{ code }}' as indicator_code {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

with_formula as (
    {% for code in indicator_formulas() %}
    select '{{ code }}' as indicator_code {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

scored as (
    select indicator_code from {{ ref('stg_indicators') }} where role in ('score', 'reported')
)

select coalesce(m.indicator_code, d.indicator_code) as indicator_code
from in_models as m
full outer join scored as d using (indicator_code)
where m.indicator_code is null or d.indicator_code is null
union all
select coalesce(f.indicator_code, d.indicator_code)
from with_formula as f
full outer join scored as d using (indicator_code)
where f.indicator_code is null or d.indicator_code is null
union all
select 'coverage threshold missing'
where not exists (
    select 1 from {{ ref('stg_indicators') }}
    where indicator_code = 'coverage' and threshold between 0 and 1
)
union all
select 'no indicator of role score'
where not exists (select 1 from {{ ref('stg_indicators') }} where role = 'score' and weight > 0)
union all
select indicator_code || ': role reported with a weight'
from {{ ref('stg_indicators') }}
where role = 'reported' and coalesce(weight, 0) <> 0
