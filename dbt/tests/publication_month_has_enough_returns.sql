-- Blocking: nothing is published for a month in which fewer than the dictionary's
-- `returns_received` share of the bodies expected to report have an accepted return (or when
-- no month reaches it). Set DIGITAL_PROGRESS_PERIOD to a month that does, or wait for returns.
select publication_month, bodies_expected, bodies_received, returns_share, min_returns_share
from {{ ref('int_publication_window') }}
where publication_month is null
    or returns_share is null
    or returns_share < min_returns_share
