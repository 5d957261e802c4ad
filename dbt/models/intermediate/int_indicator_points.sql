-- Each published indicator (roles score and reported) for each expected (body, service, month):
-- its numerator and denominator (indicator_formulas), and its points between the dictionary's
-- fixed goalposts.
--   given      the service-month gives the measure (the formula's `given`; by default it was
--              reported): one that does not adds nothing to either sum, missing is not zero
--   value      numerator / denominator of this service-month
--   points     0 (worst goalpost) to 1 (best); an expected service-month that does not give
--              the measure scores 0, so leaving a row out never helps; so does one with a zero
--              denominator (no transactions, no contacts): it shows no progress, and reporting
--              zeros for a weak service must help no more than leaving it out.
--   For the yes/no flags (not_given 'no') a service not reported counts as "no" in the
--   published value too: numerator 0 of denominator 1.
{%- set formulas = indicator_formulas() %}
with terms as (
    -- one scan of the expected service-months, one row per indicator (a union of one select
    -- per indicator would read them, and as views everything below them, once per indicator)
    select
        e.body_code, e.sector, e.service_code, e.period_month, e.reported, e.revised,
        i.indicator_code,
        case i.indicator_code
            {%- for code, f in formulas.items() %}
            when '{{ code }}' then coalesce({{ f.given | default('reported') }}, false)
            {%- endfor %}
        end as given,
        case i.indicator_code
            {%- for code, f in formulas.items() %}
            when '{{ code }}' then {{ 'true' if f.not_given == 'no' else 'false' }}
            {%- endfor %}
        end as not_given_is_no,
        case i.indicator_code
            {%- for code, f in formulas.items() %}
            when '{{ code }}' then cast({{ f.numerator }} as double)
            {%- endfor %}
        end as numerator,
        case i.indicator_code
            {%- for code, f in formulas.items() %}
            when '{{ code }}' then cast({{ f.denominator }} as double)
            {%- endfor %}
        end as denominator
    from {{ ref('int_expected_service_months') }} as e
    cross join (values
        {%- for code in formulas %}
        ('{{ code }}'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as i(indicator_code)
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
    t.given,
    case when t.given then t.numerator when t.not_given_is_no then 0.0 end as numerator,
    case when t.given then t.denominator when t.not_given_is_no then 1.0 end as denominator,
    case
        when t.given and t.denominator > 0
            then {{ goalpost_points('t.numerator / t.denominator') }}
        else 0.0
    end as points
from terms as t
join {{ ref('stg_indicators') }} as d using (indicator_code)
