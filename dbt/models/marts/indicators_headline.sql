-- Headline indicators per registered body over the window_months ending at the publication
-- month (sums over the window; yes/no flags from the publication month itself, over the
-- services the body is expected to deliver). Every registered body has a row; a body with no
-- data in the window has empty values.
select
    b.body_code,
    b.name_en,
    b.name_cy,
    b.sector,
    b.population,
    w.period,
    coalesce(r.months_reported, 0) as months_reported,
    coalesce(r.service_months_expected, 0) as service_months_expected,
    coalesce(r.service_months_reported, 0) as service_months_reported,
    coalesce(r.coverage, 0) as coverage,
    r.transactions_total,
    r.transactions_online,
    r.letters_posted,
    r.digital_notifications,
    r.transactions_a_year,
    r.letters_a_year,
    {% for code in indicator_codes() %}r.{{ code }}{% if not loop.last %},
    {% endif %}{% endfor %}
from {{ ref('stg_bodies') }} as b
cross join {{ ref('int_publication_window') }} as w
left join {{ ref('int_rolling_indicators') }} as r
    on r.body_code = b.body_code and r.end_month = w.publication_month
