-- The latest accepted version of each (body, service, month): a resubmission supersedes earlier
-- versions for indicators, while every version stays in raw.submissions. `versions` counts them:
-- above 1 the figures were revised.
-- Incremental where the build makes tables (it read every row of raw.submissions, the slowest
-- model of a build): raw rows are only appended, under a growing load_sequence, so only the
-- (body, service, month) keys named by loads after the newest one in the table can change, and
-- those are recomputed from all their versions (delete+insert). Whether an incremental build is
-- safe (the older raw rows as they were, the same project, vars and dbt, no as_of) is decided
-- by the platform, which passes --full-refresh otherwise (dagster_project/transform/assets.py).
{{ config(
    materialized='incremental' if var('intermediate_materialized', 'view') == 'table' else 'view',
    incremental_strategy='delete+insert',
    unique_key=['body_code', 'service_code', 'period_month'],
    on_schema_change='fail',
) }}
with candidates as (
    select s.*
    from {{ ref('stg_submissions') }} as s
    {%- if is_incremental() %}
    semi join (
        select distinct body_code, service_code, period_month
        from {{ ref('stg_submissions') }}
        where load_sequence > (select coalesce(max(load_sequence), 0) from {{ this }})
    ) as touched using (body_code, service_code, period_month)
    {%- endif %}
)

select *
from (
    select
        *,
        count(*) over (partition by body_code, service_code, period_month) as versions
    from candidates
)
qualify row_number() over (
    partition by body_code, service_code, period_month
    order by load_sequence desc, source_row desc
) = 1
