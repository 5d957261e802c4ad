-- Each indicator's national trajectory: a straight line, month by month, from its baseline to
-- its target in December of the target year, as the indicator dictionary sets them; only the
-- published indicators that have a target.
select
    d.indicator_code,
    cast(m.range as date) as period_month,
    strftime(cast(m.range as date), '%Y-%m') as period,
    d.baseline_value + (d.target_value - d.baseline_value)
        * date_diff('month', d.baseline_month, cast(m.range as date))
        / date_diff('month', d.baseline_month, d.target_month) as trajectory_value
from {{ ref('stg_indicators') }} as d,
    range(d.baseline_month, d.target_month + interval 1 month, interval 1 month) as m
where d.role in ('score', 'reported') and d.target_value is not null
