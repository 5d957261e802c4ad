-- One row per standard of every accepted Digital Service Standard assessment return, every
-- version kept, as known at `as_of`. met: the standard was met in full (partly met is not met).
select
    load_sequence,
    file_name,
    content_hash,
    loaded_at,
    row_number as source_row,
    body_code,
    service_code,
    assessed_on,
    standard,
    result,
    result = 'met' as met
from {{ source('raw', 'assessments') }}
{{ as_of_filter('loaded_at') }}
