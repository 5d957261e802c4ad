-- Every (body, service, month) a body is expected to report, from its register of expected
-- returns (stg_body_services), with what it reported: the latest version of the row, or nothing.
-- Rows for services outside a body's register are not here: they count nowhere in the
-- indicators (they stay in raw.submissions and in the body's own service figures). The
-- service's current Digital Service Standard assessment at the month end, if any, comes with it
-- (int_current_assessments): standards_assessed is 12 then, NULL without one.
select
    e.body_code,
    b.sector,
    e.service_code,
    c.period_month,
    s.body_code is not null as reported,
    coalesce(s.versions, 0) > 1 as revised,
    s.transactions_total,
    s.transactions_online,
    s.available_online,
    s.digital_by_default,
    s.letters_posted,
    s.digital_notifications,
    s.online_started,
    s.satisfaction_responses,
    s.satisfied_responses,
    s.cost_total,
    s.transactions_online_welsh,
    a.assessed_on,
    a.standards_met,
    a.standards_assessed
from {{ ref('stg_body_services') }} as e
join {{ ref('stg_bodies') }} as b using (body_code)
join {{ ref('int_calendar') }} as c
    on c.period_month >= e.start_month
    and (e.end_month is null or c.period_month <= e.end_month)
left join {{ ref('int_submissions_current') }} as s
    on s.body_code = e.body_code
    and s.service_code = e.service_code
    and s.period_month = c.period_month
left join {{ ref('int_current_assessments') }} as a
    on a.body_code = e.body_code
    and a.service_code = e.service_code
    and a.period_month = c.period_month
