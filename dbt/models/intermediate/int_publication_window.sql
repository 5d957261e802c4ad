-- The headline window: the publication month (configured, or the latest month with accepted
-- data) and the months before it that make up window_months.
{% set configured = var('publication_period', '') | string %}
{% if configured and not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])', configured) %}
    {{ exceptions.raise_compiler_error("publication_period must be YYYY-MM, got " ~ configured) }}
{% endif %}
with latest as (
    select
        {% if configured %}
        cast(strptime({{ "'" ~ configured ~ "'" }} || '-01', '%Y-%m-%d') as date)
        {% else %}
        max(period_month)
        {% endif %} as publication_month
    from {{ ref('stg_submissions') }}
)
select
    publication_month,
    cast(publication_month - to_months({{ var('window_months') }} - 1) as date) as window_start,
    strftime(publication_month, '%Y-%m') as period
from latest
