{#- Each score indicator's formula, once: the numerator and denominator of one (service, month)
    of a body's returns. A body's value is the sum of numerators over the sum of denominators;
    its points average each expected service-month's own value between the goalposts. Columns
    are those of int_submissions_current. The dictionary (seeds/indicator_dictionary.csv) holds
    everything else about an indicator. -#}
{% macro indicator_formulas() -%}
    {{ return({
        'online_take_up': {
            'numerator': 'transactions_online',
            'denominator': 'transactions_total'},
        'online_availability': {
            'numerator': 'case when available_online then 1 else 0 end',
            'denominator': '1'},
        'digital_by_default_rate': {
            'numerator': 'case when digital_by_default then 1 else 0 end',
            'denominator': '1'},
        'letters_per_1000': {
            'numerator': '1000 * letters_posted',
            'denominator': 'transactions_total'},
        'digital_contact_share': {
            'numerator': 'digital_notifications',
            'denominator': 'digital_notifications + letters_posted'},
    }) }}
{%- endmacro %}

{#- Where a value sits between an indicator's fixed goalposts: 0 at goal_worst, 1 at goal_best,
    clamped, whichever way round they are. -#}
{% macro goalpost_points(value, worst='d.goal_worst', best='d.goal_best') -%}
    greatest(0.0, least(1.0, ({{ value }} - {{ worst }}) / nullif({{ best }} - {{ worst }}, 0)))
{%- endmacro %}
