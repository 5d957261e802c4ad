-- Headline indicators per registered body: sums over the window_months ending at the
-- publication month (seasonality balances out); yes/no flags from the publication month itself.
-- Every registered body has a row; a body with no data in the window has empty values.
with window_sums as (
    select
        m.body_code,
        count(*) as months_reported,
        sum(m.services_reported) as service_months_reported,
        sum(m.transactions_total) as transactions_total,
        sum(m.transactions_online) as transactions_online,
        sum(m.letters_posted) as letters_posted,
        sum(m.digital_notifications) as digital_notifications
    from {{ ref('int_body_months') }} as m
    cross join {{ ref('int_publication_window') }} as w
    where m.period_month between w.window_start and w.publication_month
    group by m.body_code
),

publication_month as (
    select m.*
    from {{ ref('int_body_months') }} as m
    join {{ ref('int_publication_window') }} as w on m.period_month = w.publication_month
),

expected as (
    select sector, count(*) as services_in_catalogue
    from {{ ref('stg_services') }}
    group by sector
)

select
    b.body_code,
    b.name_en,
    b.name_cy,
    b.sector,
    b.population,
    w.period,
    coalesce(s.months_reported, 0) as months_reported,
    coalesce(s.service_months_reported, 0) as service_months_reported,
    coalesce(s.service_months_reported, 0)
        / nullif(e.services_in_catalogue * {{ var('window_months') }}, 0) as coverage,
    s.transactions_total,
    s.transactions_online,
    s.letters_posted,
    s.digital_notifications,
    p.services_reported as services_reported_in_month,
    s.transactions_online / nullif(s.transactions_total, 0) as online_take_up,
    p.services_available_online / nullif(p.services_reported, 0) as online_availability,
    p.services_digital_by_default / nullif(p.services_reported, 0) as digital_by_default_rate,
    s.letters_posted / nullif(b.population, 0) * 1000 as letters_per_1000,
    s.digital_notifications / nullif(s.digital_notifications + s.letters_posted, 0)
        as digital_contact_share
from {{ ref('stg_bodies') }} as b
cross join {{ ref('int_publication_window') }} as w
left join window_sums as s using (body_code)
left join publication_month as p using (body_code)
left join expected as e on e.sector = b.sector
