-- The latest accepted version of each (body, service, month): a resubmission supersedes earlier
-- versions for indicators, while every version stays in raw.submissions.
select *
from {{ ref('stg_submissions') }}
qualify row_number() over (
    partition by body_code, service_code, period_month
    order by load_sequence desc, source_row desc
) = 1
