-- The latest accepted version of each (body, service, month): a resubmission supersedes earlier
-- versions for indicators, while every version stays in raw.submissions. `versions` counts them:
-- above 1 the figures were revised.
select *
from (
    select
        *,
        count(*) over (partition by body_code, service_code, period_month) as versions
    from {{ ref('stg_submissions') }}
)
qualify row_number() over (
    partition by body_code, service_code, period_month
    order by load_sequence desc, source_row desc
) = 1
