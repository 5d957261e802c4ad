-- Each body's own service-level figures, month by month (the latest version of each), for its
-- benchmark extract. Published to the body itself: no other body's rows travel with them.
select
    c.body_code,
    c.service_code,
    s.name_en as service_name_en,
    s.name_cy as service_name_cy,
    c.period_month,
    strftime(c.period_month, '%Y-%m') as period,
    c.transactions_total,
    c.transactions_online,
    {%- set take_up = indicator_formulas()['online_take_up'] %}
    -- the service's own take-up, by the one formula the indicators use
    cast({{ take_up.numerator }} as double) / nullif({{ take_up.denominator }}, 0) as online_take_up,
    c.available_online,
    c.digital_by_default,
    c.letters_posted,
    c.digital_notifications,
    -- the contract v2 measures as the body gave them (NULL where not given, never 0), so a body
    -- can see which services and months its reported indicators come from
    c.online_started,
    c.satisfaction_responses,
    c.satisfied_responses,
    c.cost_total,
    c.transactions_online_welsh,
    c.versions > 1 as revised
from {{ ref('int_submissions_current') }} as c
join {{ ref('stg_services') }} as s using (service_code)
