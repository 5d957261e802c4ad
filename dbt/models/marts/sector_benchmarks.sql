-- Each sector's spread on each headline indicator: median and quartiles over the bodies that have
-- a value (continuous quantiles, as a spreadsheet's QUARTILE.INC computes them).
with long as (
    unpivot {{ ref('indicators_headline') }}
    on {{ indicator_codes() | join(', ') }}
    into name indicator_code value indicator_value
)

select
    sector,
    indicator_code,
    count(*) as bodies_with_value,
    quantile_cont(indicator_value, 0.25) as lower_quartile,
    quantile_cont(indicator_value, 0.5) as median,
    quantile_cont(indicator_value, 0.75) as upper_quartile
from long
where indicator_value is not null
group by sector, indicator_code
