-- One row per accepted submission row, every version kept, as known at `as_of`; period as the
-- first day of its month.
select
    load_sequence,
    file_name,
    content_hash,
    loaded_at,
    row_number as source_row,
    body_code,
    cast(strptime(period || '-01', '%Y-%m-%d') as date) as period_month,
    service_code,
    transactions_total,
    transactions_online,
    available_online,
    digital_by_default,
    letters_posted,
    digital_notifications,
    -- contract v2, each optional: NULL where not given (a v1 file gives none of them), never 0
    online_started,
    satisfaction_responses,
    satisfied_responses,
    cost_total,
    transactions_online_welsh
from {{ source('raw', 'submissions') }}
{{ as_of_filter('loaded_at') }}
