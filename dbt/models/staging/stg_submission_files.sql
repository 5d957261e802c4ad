select load_sequence, file_name, content_hash, status, received_at, row_count, problem_count
from {{ source('raw', 'submission_files') }}
