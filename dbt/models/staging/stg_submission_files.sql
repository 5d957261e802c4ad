-- Every submission file or payload received, accepted or rejected, as known at `as_of`.
-- return_kind: 'monthly' (the monthly return) or 'assessment' (a Digital Service Standard
-- assessment return); files recorded before assessments existed are monthly.
select
    load_sequence, file_name, content_hash, source, sender, status, received_at, row_count,
    error_count, warning_count, periods, coalesce(return_kind, 'monthly') as return_kind
from {{ source('raw', 'submission_files') }}
{{ as_of_filter('received_at') }}
