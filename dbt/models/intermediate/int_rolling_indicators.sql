-- Every indicator for every registered body and every month, over the window_months ending at
-- that month: sums over the window (seasonality balances out); the yes/no flags from the month
-- itself. Rolling, so the table for the publication month, the month before (movement) and a
-- year before (pace) all come from one computation.
with grid as (
    select b.body_code, b.sector, b.population, c.period_month
    from {{ ref('stg_bodies') }} as b
    cross join {{ ref('int_calendar') }} as c
),

monthly as (
    select
        g.*,
        m.body_code is not null as reported,
        coalesce(m.services_reported, 0) as services_reported,
        m.services_available_online,
        m.services_digital_by_default,
        coalesce(m.services_revised, 0) as services_revised,
        coalesce(m.transactions_total, 0) as transactions_total,
        coalesce(m.transactions_online, 0) as transactions_online,
        coalesce(m.letters_posted, 0) as letters_posted,
        coalesce(m.digital_notifications, 0) as digital_notifications
    from grid as g
    left join {{ ref('int_body_months') }} as m using (body_code, period_month)
),

rolling as (
    select
        body_code, sector, population, period_month, services_reported,
        services_available_online, services_digital_by_default,
        count(*) filter (where reported) over window_rows as months_reported,
        (sum(services_reported) over window_rows)::bigint as service_months_reported,
        (sum(services_revised) over window_rows)::bigint as service_months_revised,
        (sum(transactions_total) over window_rows)::bigint as window_transactions_total,
        (sum(transactions_online) over window_rows)::bigint as window_transactions_online,
        (sum(letters_posted) over window_rows)::bigint as window_letters_posted,
        (sum(digital_notifications) over window_rows)::bigint as window_digital_notifications
    from monthly
    window window_rows as (
        partition by body_code order by period_month
        rows between {{ var('window_months') - 1 }} preceding and current row
    )
),

catalogue as (
    select sector, count(*) as services_in_catalogue
    from {{ ref('stg_services') }}
    group by sector
)

select
    r.body_code,
    r.sector,
    r.population,
    r.period_month as end_month,
    strftime(r.period_month, '%Y-%m') as period,
    r.months_reported,
    r.service_months_reported,
    r.service_months_revised,
    r.service_months_reported / nullif(c.services_in_catalogue * {{ var('window_months') }}, 0)
        as coverage,
    case when r.months_reported > 0 then r.window_transactions_total end as transactions_total,
    case when r.months_reported > 0 then r.window_transactions_online end as transactions_online,
    case when r.months_reported > 0 then r.window_letters_posted end as letters_posted,
    case when r.months_reported > 0 then r.window_digital_notifications end
        as digital_notifications,
    r.window_transactions_online / nullif(r.window_transactions_total, 0) as online_take_up,
    r.services_available_online / nullif(r.services_reported, 0) as online_availability,
    r.services_digital_by_default / nullif(r.services_reported, 0) as digital_by_default_rate,
    case when r.months_reported > 0
        then r.window_letters_posted / nullif(r.population, 0) * 1000 end as letters_per_1000,
    r.window_digital_notifications
        / nullif(r.window_digital_notifications + r.window_letters_posted, 0)
        as digital_contact_share
from rolling as r
left join catalogue as c using (sector)
