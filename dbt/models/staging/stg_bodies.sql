select
    b.body_code, b.name_en, b.name_cy, b.sector,
    s.name_en as sector_name_en, s.name_cy as sector_name_cy, s.sort_order as sector_order,
    b.population, b.population_source, b.onboarded,
    cast(strptime(b.onboarded || '-01', '%Y-%m-%d') as date) as onboarded_month
from {{ ref('bodies') }} as b
left join {{ ref('sectors') }} as s on s.sector = b.sector
