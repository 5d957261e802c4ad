-- The register of expected returns: which catalogue services each body delivers, from which
-- month to which (seed body_services.csv). A body is expected to report each of these services
-- every month from the later of the service's start and the body's onboarding, to its end.
select
    s.body_code,
    s.service_code,
    greatest(
        cast(strptime(s.start_period || '-01', '%Y-%m-%d') as date), b.onboarded_month
    ) as start_month,
    case when nullif(s.end_period, '') is not null
        then cast(strptime(s.end_period || '-01', '%Y-%m-%d') as date) end as end_month
from {{ ref('body_services') }} as s
join {{ ref('stg_bodies') }} as b using (body_code)
