-- Each service's current assessment at every month end of the calendar: its latest assessment
-- (by assessed_on) on or before the month's last day that is less than 24 months old there
-- (assessed_on + 24 months after the last day; one of exactly 24 months has expired). A service
-- with no such assessment has no row for the month.
select
    c.period_month,
    a.body_code,
    a.service_code,
    a.assessed_on,
    a.load_sequence,
    a.standards_met,
    a.standards_partly_met,
    a.standards_not_met,
    a.standards_assessed
from {{ ref('int_calendar') }} as c
join {{ ref('int_assessments_latest') }} as a
    on a.assessed_on <= last_day(c.period_month)
    and a.assessed_on + interval 24 month > last_day(c.period_month)
qualify row_number() over (
    partition by a.body_code, a.service_code, c.period_month order by a.assessed_on desc
) = 1
