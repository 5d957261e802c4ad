select body_code, name_en, name_cy, sector, population, population_source
from {{ ref('bodies') }}
