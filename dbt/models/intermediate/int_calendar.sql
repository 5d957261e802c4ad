-- Every month from the first reported month to the publication month: the grid rolling windows
-- are computed on, so a window always spans the same number of calendar months.
select cast(range as date) as period_month
from range(
    (select min(period_month) from {{ ref('stg_submissions') }}),
    (select publication_month from {{ ref('int_publication_window') }}) + interval 1 month,
    interval 1 month
)
