-- The five indicators per body and month, for trends. A zero denominator gives NULL, never 0.
-- status: StatsWales note code for the month's values: r revised (a row was resubmitted),
-- p provisional (the month ended less than provisional_months before the build), empty final.
select
    m.body_code,
    m.period_month,
    strftime(m.period_month, '%Y-%m') as period,
    m.services_reported,
    m.transactions_total,
    m.transactions_online,
    m.letters_posted,
    m.digital_notifications,
    m.transactions_online / nullif(m.transactions_total, 0) as online_take_up,
    m.services_available_online / nullif(m.services_reported, 0) as online_availability,
    m.services_digital_by_default / nullif(m.services_reported, 0) as digital_by_default_rate,
    m.letters_posted / nullif(b.population, 0) * 1000 as letters_per_1000,
    m.digital_notifications / nullif(m.digital_notifications + m.letters_posted, 0)
        as digital_contact_share,
    case
        when m.services_revised > 0 then 'r'
        when date_diff('month', m.period_month, {{ as_of_date() }})
            < {{ var('provisional_months') }} then 'p'
        else ''
    end as status
from {{ ref('int_body_months') }} as m
join {{ ref('stg_bodies') }} as b using (body_code)
