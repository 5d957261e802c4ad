-- The indicator dictionary: the one place each indicator is defined.
select
    indicator_code, name_en, name_cy, definition_en, definition_cy, formula, unit,
    polarity, weight, decimals
from {{ ref('indicator_dictionary') }}
