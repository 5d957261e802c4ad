-- Each score indicator for each expected (body, service, month): its numerator and denominator
-- (indicator_formulas), and its points between the dictionary's fixed goalposts.
--   value      numerator / denominator of this service-month
--   points     0 (worst goalpost) to 1 (best); an expected service-month that was not reported
--              scores 0, so leaving a row out never helps; so does a reported one with a zero
--              denominator (no transactions, no contacts): it shows no progress, and reporting
--              zeros for a weak service must help no more than leaving it out.
--   For a month-scope indicator (the yes/no flags) a service not reported counts as "no" in
--   the published value too: numerator 0 of denominator 1.
{%- set formulas = indicator_formulas() %}
with terms as (
    {%- for code, f in formulas.items() %}
    select
        body_code, sector, service_code, period_month, reported, revised,
        '{{ code }}' as indicator_code,
        cast({{ f.numerator }} as double) as numerator,
        cast({{ f.denominator }} as double) as denominator
    from {{ ref('int_expected_service_months') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    t.body_code,
    t.sector,
    t.service_code,
    t.period_month,
    t.indicator_code,
    d.scope,
    t.reported,
    t.revised,
    case when t.reported then t.numerator when d.scope = 'month' then 0.0 end as numerator,
    case when t.reported then t.denominator when d.scope = 'month' then 1.0 end as denominator,
    case
        when t.reported and t.denominator > 0
            then {{ goalpost_points('t.numerator / t.denominator') }}
        else 0.0
    end as points
from terms as t
join {{ ref('stg_indicators') }} as d using (indicator_code)
