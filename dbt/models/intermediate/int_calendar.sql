-- Every month from two windows before the publication month (or the first reported month, if
-- earlier) to the publication month: the grid rolling windows are computed on, so the windows
-- for the publication month, the month before (movement) and a year before (pace) are whole.
select cast(range as date) as period_month
from range(
    (select least(
        min(s.period_month),
        any_value(w.publication_month) - to_months(2 * {{ var('window_months') }} - 1))
     from {{ ref('stg_submissions') }} as s, {{ ref('int_publication_window') }} as w),
    (select publication_month from {{ ref('int_publication_window') }}) + interval 1 month,
    interval 1 month
)
