Mañana: {{ event_title }} · orden {{ order_number }}
