select
    body_code, name_en, name_cy, sector, population, population_source, onboarded,
    cast(strptime(onboarded || '-01', '%Y-%m-%d') as date) as onboarded_month
from {{ ref('bodies') }}
