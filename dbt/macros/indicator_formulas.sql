{#- Each published indicator's formula, once: the numerator and denominator of one expected
    (service, month) of a body (columns of int_expected_service_months). A body's value is the
    sum of numerators over the sum of denominators, over the service-months that give the
    measure; its points average each expected service-month's own value between the goalposts.
      given      when a service-month gives the measure (default: the service was reported that
                 month). Missing is not zero: one that does not give it adds to neither sum.
      not_given  'no': a service-month that does not give it counts as 0 of 1 instead (the
                 yes/no flags over the services a body delivers: not reported is not online).
    The dictionary (seeds/indicator_dictionary.csv) holds everything else about an indicator. -#}
{% macro indicator_formulas() -%}
    {{ return({
        'online_take_up': {
            'numerator': 'transactions_online',
            'denominator': 'transactions_total'},
        'online_availability': {
            'numerator': 'case when available_online then 1 else 0 end',
            'denominator': '1',
            'not_given': 'no'},
        'digital_by_default_rate': {
            'numerator': 'case when digital_by_default then 1 else 0 end',
            'denominator': '1',
            'not_given': 'no'},
        'letters_per_1000': {
            'numerator': '1000 * letters_posted',
            'denominator': 'transactions_total'},
        'digital_contact_share': {
            'numerator': 'digital_notifications',
            'denominator': 'digital_notifications + letters_posted'},
        'completion_rate': {
            'numerator': 'transactions_online',
            'denominator': 'online_started',
            'given': 'online_started is not null'},
        'user_satisfaction': {
            'numerator': 'satisfied_responses',
            'denominator': 'satisfaction_responses',
            'given': 'satisfied_responses is not null and satisfaction_responses is not null'},
        'cost_per_transaction': {
            'numerator': 'cost_total',
            'denominator': 'transactions_total',
            'given': 'cost_total is not null'},
        'welsh_language_share': {
            'numerator': 'transactions_online_welsh',
            'denominator': 'transactions_online',
            'given': 'transactions_online_welsh is not null'},
        'standards_met': {
            'numerator': 'standards_met',
            'denominator': 'standards_assessed',
            'given': 'standards_assessed is not null'},
    }) }}
{%- endmacro %}

{#- Where a value sits between an indicator's fixed goalposts: 0 at goal_worst, 1 at goal_best,
    clamped, whichever way round they are. -#}
{% macro goalpost_points(value, worst='d.goal_worst', best='d.goal_best') -%}
    greatest(0.0, least(1.0, ({{ value }} - {{ worst }}) / nullif({{ best }} - {{ worst }}, 0)))
{%- endmacro %}
