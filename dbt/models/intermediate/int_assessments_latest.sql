-- Every Digital Service Standard assessment of a service, in its latest version: a resubmitted
-- assessment of the same body, service and date supersedes the earlier one (by load_sequence);
-- every version stays in raw.assessments. One row per assessment, with its counts of the 12
-- standards met, partly met and not met (partly met is not met).
with versions as (
    select
        body_code,
        service_code,
        assessed_on,
        load_sequence,
        count(*) filter (where result = 'met') as standards_met,
        count(*) filter (where result = 'partly_met') as standards_partly_met,
        count(*) filter (where result = 'not_met') as standards_not_met,
        count(*) as standards_assessed
    from {{ ref('stg_assessments') }}
    group by body_code, service_code, assessed_on, load_sequence
)

select *
from versions
qualify row_number() over (
    partition by body_code, service_code, assessed_on order by load_sequence desc
) = 1
