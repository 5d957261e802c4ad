-- Per body and month: the sums and counts every indicator is built from.
select
    body_code,
    period_month,
    count(*) as services_reported,
    count(*) filter (where available_online) as services_available_online,
    count(*) filter (where digital_by_default) as services_digital_by_default,
    count(*) filter (where versions > 1) as services_revised,
    sum(transactions_total)::bigint as transactions_total,
    sum(transactions_online)::bigint as transactions_online,
    sum(letters_posted)::bigint as letters_posted,
    sum(digital_notifications)::bigint as digital_notifications
from {{ ref('int_submissions_current') }}
group by body_code, period_month
