-- Each body's services against the Digital Service Standard for Wales at the publication month:
-- one row per service the body is expected to deliver that month, and per other catalogue
-- service it has sent an assessment for.
--   assessment_status  current: an assessment on or before the month's end, less than 24
--                      months old (its latest is shown); expired: only older ones; not_assessed
--   standards_*        counts of its 12 results (partly met is not met), NULL unless current
--   standards_met_share  standards_met / 12
with window_end as (
    select publication_month, last_day(publication_month) as month_end
    from {{ ref('int_publication_window') }}
),

expected as (
    select e.body_code, e.service_code
    from {{ ref('stg_body_services') }} as e
    cross join window_end as w
    where e.start_month <= w.publication_month
        and (e.end_month is null or e.end_month >= w.publication_month)
),

ever_assessed as (
    select a.body_code, a.service_code
    from {{ ref('int_assessments_latest') }} as a
    cross join window_end as w
    where a.assessed_on <= w.month_end
    group by a.body_code, a.service_code
),

services as (
    select * from expected
    union
    select * from ever_assessed
),

current as (
    select a.*
    from {{ ref('int_current_assessments') }} as a
    join window_end as w on a.period_month = w.publication_month
)

select
    s.body_code,
    s.service_code,
    c.assessed_on,
    case
        when c.body_code is not null then 'current'
        when x.body_code is not null then 'expired'
        else 'not_assessed'
    end as assessment_status,
    c.standards_met,
    c.standards_partly_met,
    c.standards_not_met,
    c.standards_met / nullif(c.standards_assessed, 0) as standards_met_share
from services as s
left join current as c using (body_code, service_code)
left join ever_assessed as x using (body_code, service_code)
