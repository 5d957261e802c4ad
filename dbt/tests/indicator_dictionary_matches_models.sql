-- Fails if the indicator dictionary and the models' indicator columns disagree.
with in_models as (
    {% for code in indicator_codes() %}
    select '{{ code }}' as indicator_code {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select coalesce(m.indicator_code, d.indicator_code) as indicator_code
from in_models as m
full outer join {{ ref('stg_indicators') }} as d using (indicator_code)
where m.indicator_code is null or d.indicator_code is null
