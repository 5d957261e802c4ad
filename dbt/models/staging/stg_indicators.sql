-- The indicator dictionary: the one place each indicator is defined, weighted, targeted and
-- given its goalposts. role 'score' indicators make the Digital Progress Score; 'quality' rows
-- (coverage, returns_received) set rules.
select
    indicator_code, role, name_en, name_cy, description_en, description_cy, formula, unit,
    polarity, weight, decimals, baseline_value, baseline_period, target_value, target_year,
    threshold, scope, goal_worst, goal_best, min_denominator,
    cast(strptime(baseline_period || '-01', '%Y-%m-%d') as date) as baseline_month,
    make_date(target_year, 12, 1) as target_month
from {{ ref('indicator_dictionary') }}
