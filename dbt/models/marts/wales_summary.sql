-- Wales as a whole at the publication month: how many bodies are ranked, and the scale of the
-- prize — letters a year not posted if every body matched its sector's top quartile.
select
    max(period) as period,
    count(*) as registered_bodies,
    count(*) filter (where ranked) as ranked_bodies,
    count(*) filter (where not ranked) as unranked_bodies,
    sum(letters_posted_12_months)::bigint as letters_posted_12_months,
    sum(letters_prize) as letters_prize
from (
    select l.*, h.letters_posted as letters_posted_12_months
    from {{ ref('league_table') }} as l
    join {{ ref('indicators_headline') }} as h using (body_code)
)
