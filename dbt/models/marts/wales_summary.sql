-- Wales as a whole at the publication month: how many bodies are ranked, the scale of the
-- prize (letters a year not posted if every body matched its sector's top quartile), and the
-- Digital Service Standard: services expected and assessed (a current assessment at the month,
-- as in the league table), and the share of the standards met over those assessments, every
-- body's together (standards met / (12 x services assessed)).
with standards as (
    select
        sum(e.standards_met) / nullif(sum(e.standards_assessed), 0) as standards_met
    from {{ ref('int_expected_service_months') }} as e
    join {{ ref('int_publication_window') }} as w on e.period_month = w.publication_month
)

select
    max(period) as period,
    count(*) as registered_bodies,
    count(*) filter (where ranked) as ranked_bodies,
    count(*) filter (where not ranked) as unranked_bodies,
    sum(letters_posted_12_months)::bigint as letters_posted_12_months,
    sum(letters_prize) as letters_prize,
    sum(services_expected)::bigint as services_expected,
    sum(services_assessed)::bigint as services_assessed,
    any_value(s.standards_met) as standards_met
from (
    select l.*, h.letters_posted as letters_posted_12_months
    from {{ ref('league_table') }} as l
    join {{ ref('indicators_headline') }} as h using (body_code)
)
cross join standards as s
