-- Every registered body at every month end, over the window_months to that month: coverage of
-- its expected returns, the sums behind its indicators, yearly rates, and each score indicator's
-- value, points and small-numbers flag (from int_indicator_windows), one column each. Rolling,
-- so the publication month, the month before (movement) and a year before (pace) all come from
-- one computation.
--   coverage           reported expected service-months / expected service-months in the window
--   months_reported    months of the window with at least one expected service reported
--   *_a_year           window sums turned into a yearly rate from the months reported
--                      (sum x 12 / months_reported), so a missing month is neither a zero nor
--                      a twelfth off the year
with rolling as (
    select
        b.body_code,
        b.sector,
        c.period_month as end_month,
        count(*) filter (where m.services_reported > 0) over window_rows as months_reported,
        coalesce(sum(m.services_expected) over window_rows, 0)::bigint as service_months_expected,
        coalesce(sum(m.services_reported) over window_rows, 0)::bigint
            as service_months_reported,
        coalesce(sum(m.services_revised) over window_rows, 0)::bigint as service_months_revised,
        (sum(m.transactions_total) over window_rows)::bigint as transactions_total,
        (sum(m.transactions_online) over window_rows)::bigint as transactions_online,
        (sum(m.letters_posted) over window_rows)::bigint as letters_posted,
        (sum(m.digital_notifications) over window_rows)::bigint as digital_notifications
    from {{ ref('stg_bodies') }} as b
    cross join {{ ref('int_calendar') }} as c
    left join {{ ref('int_body_months') }} as m
        on m.body_code = b.body_code and m.period_month = c.period_month
    window window_rows as (
        partition by b.body_code order by c.period_month
        rows between {{ var('window_months') - 1 }} preceding and current row
    )
),

indicators as (
    select
        body_code,
        end_month,
        {%- for code in indicator_codes() %}
        max(value) filter (where indicator_code = '{{ code }}') as {{ code }},
        max(points) filter (where indicator_code = '{{ code }}') as {{ code }}_points,
        bool_or(small_numbers) filter (where indicator_code = '{{ code }}')
            as {{ code }}_small_numbers
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_indicator_windows') }}
    group by body_code, end_month
)

select
    r.body_code,
    r.sector,
    r.end_month,
    strftime(r.end_month, '%Y-%m') as period,
    r.months_reported,
    r.service_months_expected,
    r.service_months_reported,
    r.service_months_revised,
    r.service_months_reported / nullif(r.service_months_expected, 0) as coverage,
    case when r.months_reported > 0 then r.transactions_total end as transactions_total,
    case when r.months_reported > 0 then r.transactions_online end as transactions_online,
    case when r.months_reported > 0 then r.letters_posted end as letters_posted,
    case when r.months_reported > 0 then r.digital_notifications end as digital_notifications,
    r.transactions_total * 12.0 / nullif(r.months_reported, 0) as transactions_a_year,
    r.letters_posted * 12.0 / nullif(r.months_reported, 0) as letters_a_year,
    {%- for code in indicator_codes() %}
    i.{{ code }},
    i.{{ code }}_points,
    i.{{ code }}_small_numbers
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
from rolling as r
left join indicators as i using (body_code, end_month)
