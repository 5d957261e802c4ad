-- The headline window: the publication month and the months before it that make up
-- window_months. Configured (var publication_period, YYYY-MM), or by default the latest month in
-- which at least the dictionary's `returns_received` share of the bodies expected to report has
-- an accepted return, so that one stray row for a later month cannot move the publication to a
-- month nobody has reported yet. The test publication_month_has_enough_returns stops
-- publication when the chosen month is below that share.
{% set configured = var('publication_period', '') | string %}
{% if configured and not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])', configured) %}
    {{ exceptions.raise_compiler_error("publication_period must be YYYY-MM, got " ~ configured) }}
{% endif %}
with months as (
    select distinct period_month from {{ ref('stg_submissions') }}
    {% if configured %}
    union
    select cast('{{ configured }}-01' as date)
    {% endif %}
),

expected as (
    -- bodies with at least one service they are expected to report that month
    select m.period_month, count(distinct e.body_code) as bodies_expected
    from months as m
    join {{ ref('stg_body_services') }} as e
        on m.period_month >= e.start_month
        and (e.end_month is null or m.period_month <= e.end_month)
    group by m.period_month
),

received as (
    -- a return counts when it reports at least one of the body's own expected services: a
    -- stray row for a service it does not deliver cannot move the publication month
    select s.period_month, count(distinct s.body_code) as bodies_received
    from {{ ref('stg_submissions') }} as s
    join {{ ref('stg_body_services') }} as e
        on e.body_code = s.body_code
        and e.service_code = s.service_code
        and s.period_month >= e.start_month
        and (e.end_month is null or s.period_month <= e.end_month)
    group by s.period_month
),

shares as (
    select
        m.period_month,
        coalesce(e.bodies_expected, 0) as bodies_expected,
        coalesce(r.bodies_received, 0) as bodies_received,
        coalesce(r.bodies_received, 0) / nullif(e.bodies_expected, 0) as returns_share
    from months as m
    left join expected as e using (period_month)
    left join received as r using (period_month)
),

threshold as (
    select threshold as min_returns_share from {{ ref('stg_indicators') }}
    where indicator_code = 'returns_received'
),

chosen as (
    select
        {% if configured %}
        cast('{{ configured }}-01' as date)
        {% else %}
        (select max(s.period_month) from shares as s, threshold as t
         where s.returns_share >= t.min_returns_share)
        {% endif %} as publication_month
)

select
    c.publication_month,
    cast(c.publication_month - to_months({{ var('window_months') }} - 1) as date) as window_start,
    strftime(c.publication_month, '%Y-%m') as period,
    coalesce(s.bodies_expected, 0) as bodies_expected,
    coalesce(s.bodies_received, 0) as bodies_received,
    s.returns_share,
    t.min_returns_share
from chosen as c
cross join threshold as t
left join shares as s on s.period_month = c.publication_month
