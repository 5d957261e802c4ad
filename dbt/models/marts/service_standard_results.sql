-- The 12 results of every current Digital Service Standard assessment at the publication month
-- (int_current_assessments: each service's latest on or before the month's end, less than 24
-- months old, in its latest version): one row per standard.
with window_end as (
    select publication_month from {{ ref('int_publication_window') }}
)

select a.body_code, a.service_code, a.assessed_on, s.standard, s.result
from {{ ref('int_current_assessments') }} as a
join window_end as w on a.period_month = w.publication_month
join {{ ref('stg_assessments') }} as s
    on s.body_code = a.body_code
    and s.service_code = a.service_code
    and s.assessed_on = a.assessed_on
    and s.load_sequence = a.load_sequence
