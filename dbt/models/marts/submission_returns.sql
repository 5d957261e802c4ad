-- Expected versus received returns: one row per registered body and month, from the first month
-- anyone reported (or the body's onboarding, if later) to the publication month. A return is due by day `return_due_day` of the
-- following month. Status:
--   on_time      accepted rows for the month arrived by the due date
--   late         accepted rows arrived, but only after the due date
--   rejected     only rejected files mentioned the month (see quarantine/)
--   missing      nothing accepted and the due date has passed
--   not_yet_due  nothing accepted yet, and the due date is still to come
-- services_not_reported: services in the body's register of expected returns with no accepted
-- row for the month, so a catalogue service that stopped being reported shows.
with months as (
    select cast(range as date) as period_month
    from range(
        (select min(period_month) from {{ ref('stg_submissions') }}),
        (select publication_month from {{ ref('int_publication_window') }}) + interval 1 month,
        interval 1 month
    )
),

expected as (
    select b.body_code, b.sector, m.period_month,
        cast(m.period_month + interval 1 month + to_days({{ var('return_due_day') }} - 1)
             as date) as due_date
    from {{ ref('stg_bodies') }} as b
    cross join months as m
    where m.period_month >= b.onboarded_month  -- nothing is owed before onboarding
),

accepted as (
    select body_code, period_month, min(loaded_at) as first_received_at,
        max(loaded_at) as last_received_at, count(distinct load_sequence) as versions,
        count(distinct service_code) as services_reported
    from {{ ref('stg_submissions') }}
    group by body_code, period_month
),

expected_services as (
    -- the services each body is expected to report each month, and how many it did not
    select e.body_code, m.period_month, count(*) as services_expected,
        count(*) filter (where not exists (
            select 1 from {{ ref('stg_submissions') }} as s
            where s.body_code = e.body_code and s.service_code = e.service_code
                and s.period_month = m.period_month
        )) as services_not_reported
    from {{ ref('stg_body_services') }} as e
    join months as m
        on m.period_month >= e.start_month
        and (e.end_month is null or m.period_month <= e.end_month)
    group by e.body_code, m.period_month
),

rejected_months as (
    select sender as body_code, unnest(periods) as period
    from {{ ref('stg_submission_files') }}
    -- a rejected assessment return is not a monthly return (the body's own service_standards)
    where status = 'rejected' and sender is not null and return_kind = 'monthly'
),

rejected as (
    select body_code, cast(strptime(period || '-01', '%Y-%m-%d') as date) as period_month,
        count(*) as rejected_files
    from rejected_months
    group by all
)

select
    e.body_code,
    e.sector,
    e.period_month,
    strftime(e.period_month, '%Y-%m') as period,
    e.due_date,
    a.first_received_at,
    a.last_received_at,
    coalesce(a.versions, 0) as versions,
    coalesce(a.services_reported, 0) as services_reported,
    coalesce(x.services_expected, 0) as services_expected,
    coalesce(x.services_not_reported, 0) as services_not_reported,
    coalesce(r.rejected_files, 0) as rejected_files,
    case
        when a.first_received_at is not null and cast(a.first_received_at as date) <= e.due_date
            then 'on_time'
        when a.first_received_at is not null then 'late'
        when r.rejected_files > 0 then 'rejected'
        when e.due_date < {{ as_of_date() }} then 'missing'
        else 'not_yet_due'
    end as status
from expected as e
left join accepted as a using (body_code, period_month)
left join rejected as r using (body_code, period_month)
left join expected_services as x using (body_code, period_month)
