-- The score indicators per body and month, for trends (months with a return only), over the
-- services the body is expected to deliver. A zero denominator gives NULL, never 0.
-- status: StatsWales note code for the month's values: r revised (a row was resubmitted),
-- p provisional (the month ended less than provisional_months before the build), empty final.
select
    m.body_code,
    m.period_month,
    strftime(m.period_month, '%Y-%m') as period,
    m.services_expected,
    m.services_reported,
    m.transactions_total,
    m.transactions_online,
    m.letters_posted,
    m.digital_notifications,
    {% for code in indicator_codes() %}m.{{ code }},
    {% endfor -%}
    case
        when m.services_revised > 0 then 'r'
        when date_diff('month', m.period_month, {{ as_of_date() }})
            < {{ var('provisional_months') }} then 'p'
        else ''
    end as status
from {{ ref('int_body_months') }} as m
where m.services_reported > 0
