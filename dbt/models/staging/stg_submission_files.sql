-- Every submission file or payload received, accepted or rejected, as known at `as_of`.
select
    load_sequence, file_name, content_hash, source, sender, status, received_at, row_count,
    error_count, warning_count, periods
from {{ source('raw', 'submission_files') }}
{{ as_of_filter('received_at') }}
