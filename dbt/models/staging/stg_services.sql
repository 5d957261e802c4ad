select service_code, sector, name_en, name_cy
from {{ ref('services') }}
