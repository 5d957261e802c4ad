-- Per body and month with an expected service: the services expected and reported, the sums,
-- and each score indicator's value that month (sum of numerators over sum of denominators, from
-- int_indicator_points: the yes/no flags over the services expected, a service not reported
-- counting as "no").
with services as (
    select
        body_code,
        period_month,
        count(*) as services_expected,
        count(*) filter (where reported) as services_reported,
        count(*) filter (where revised) as services_revised,
        sum(transactions_total)::bigint as transactions_total,
        sum(transactions_online)::bigint as transactions_online,
        sum(letters_posted)::bigint as letters_posted,
        sum(digital_notifications)::bigint as digital_notifications
    from {{ ref('int_expected_service_months') }}
    group by body_code, period_month
),

indicators as (
    select
        body_code,
        period_month,
        {%- for code in indicator_codes() %}
        sum(numerator) filter (where indicator_code = '{{ code }}')
            / nullif(sum(denominator) filter (where indicator_code = '{{ code }}'), 0)
            as {{ code }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_indicator_points') }}
    group by body_code, period_month
)

select s.*, {% for code in indicator_codes() %}i.{{ code }}{% if not loop.last %}, {% endif %}{% endfor %}
from services as s
join indicators as i using (body_code, period_month)
