-- Each body's progress on each published indicator (roles score and reported) at the
-- publication month: value, pace over 12 months, direction of travel, data status, and its path
-- to the national target where the dictionary sets one (none: no trajectory, no target status).
--   pace       rates: change in the fraction (0.05 = 5 percentage points); other units
--              (letters per 1,000): relative change (-0.10 = 10% fewer)
--   direction  improving / worsening / no change, read with the indicator's polarity
--   status     StatsWales note codes: x missing, u low reliability (coverage below the
--              threshold, or a denominator below the dictionary's min_denominator), r revised (a figure in the window was resubmitted), p provisional
--              (the month ended less than provisional_months before the build); empty = final
--   trajectory the national straight line from the baseline (value, month) to the target (value,
--              December of the target year); on_track when at least as good as the line at the
--              publication month, met when at least as good as the target itself
--   required_change_per_year  what the body must gain each year from now to meet the target in
--              time (in the indicator's unit)
--   projected_month  when the body meets the target at its pace of the last 12 months
with window_end as (
    select publication_month from {{ ref('int_publication_window') }}
),

threshold as (
    select threshold as min_coverage from {{ ref('stg_indicators') }}
    where indicator_code = 'coverage'
),

values_at as (
    select r.body_code, r.sector, r.end_month, r.coverage, r.service_months_revised,
        i.indicator_code, i.value as indicator_value, i.small_numbers
    from {{ ref('int_rolling_indicators') }} as r
    join {{ ref('int_indicator_windows') }} as i using (body_code, end_month)
),

paired as (
    select
        cur.body_code,
        cur.sector,
        cur.indicator_code,
        strftime(w.publication_month, '%Y-%m') as period,
        w.publication_month,
        cur.indicator_value as value,
        prev.indicator_value as value_12_months_before,
        cur.coverage,
        cur.small_numbers,
        cur.service_months_revised
    from values_at as cur
    cross join window_end as w
    left join values_at as prev
        on prev.body_code = cur.body_code
        and prev.indicator_code = cur.indicator_code
        and prev.end_month = cast(w.publication_month - interval 12 month as date)
    where cur.end_month = w.publication_month
),

measured as (
    select
        p.*,
        d.unit,
        d.polarity,
        case when d.polarity = 'higher_is_better' then 1 else -1 end as better_sign,
        case
            when d.unit = 'fraction' then p.value - p.value_12_months_before
            else (p.value - p.value_12_months_before) / nullif(p.value_12_months_before, 0)
        end as pace,
        (p.value - p.value_12_months_before) / 12.0 as change_per_month,
        d.baseline_value,
        d.baseline_month,
        d.target_value,
        d.target_month,
        -- the national trajectory at the publication month, held at the target once reached
        d.baseline_value + (d.target_value - d.baseline_value)
            * least(1.0, greatest(0.0,
                date_diff('month', d.baseline_month, p.publication_month)
                / nullif(date_diff('month', d.baseline_month, d.target_month), 0)))
            as trajectory_value,
        date_diff('month', p.publication_month, d.target_month) as months_to_target
    from paired as p
    join {{ ref('stg_indicators') }} as d using (indicator_code)
)

select
    m.body_code,
    m.sector,
    m.indicator_code,
    m.period,
    m.value,
    m.value_12_months_before,
    m.pace,
    case
        when m.pace is null then null
        when m.pace = 0 then 'no change'
        when m.pace * m.better_sign > 0 then 'improving'
        else 'worsening'
    end as direction,
    case
        when m.value is null then 'x'
        when m.coverage < t.min_coverage or m.small_numbers then 'u'
        when m.service_months_revised > 0 then 'r'
        when date_diff('month', m.publication_month, {{ as_of_date() }})
            < {{ var('provisional_months') }} then 'p'
        else ''
    end as status,
    m.baseline_value,
    m.target_value,
    strftime(m.target_month, '%Y-%m') as target_period,
    m.trajectory_value,
    case
        when m.value is null or m.target_value is null then null
        when (m.value - m.target_value) * m.better_sign >= 0 then 'met'
        when (m.value - m.trajectory_value) * m.better_sign >= 0 then 'on_track'
        else 'off_track'
    end as target_status,
    case
        when m.value is null or m.months_to_target <= 0 then null
        when (m.value - m.target_value) * m.better_sign >= 0 then 0.0
        else (m.target_value - m.value) / m.months_to_target * 12
    end as required_change_per_year,
    case
        when m.value is null or m.target_value is null then null  -- nothing to project to
        when (m.value - m.target_value) * m.better_sign >= 0 then 'met'
        when m.change_per_month is null then null  -- no pace yet: no projection
        -- a tiny pace projects beyond any calendar (a take-up 0.00002 better than a year ago
        -- needs 100,000 years): past the year 9999 it is not at current pace, not a failed build
        when m.change_per_month * m.better_sign > 0
            and (m.target_value - m.value) / m.change_per_month
                > (9999 - year(m.publication_month)) * 12
            then 'not at current pace'
        when m.change_per_month * m.better_sign > 0
            then strftime(m.publication_month + to_months(
                cast(ceil((m.target_value - m.value) / m.change_per_month) as integer)), '%Y-%m')
        else 'not at current pace'
    end as projected_month
from measured as m
cross join threshold as t
