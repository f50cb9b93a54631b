Hola {{ customer_name }}:

Tu compra está confirmada.

Evento: {{ event_title }}
Fecha: {{ event_date }}
Orden: {{ order_number }}
Total pagado: {{ total }}

Tus entradas ({{ tickets | length }}):
{% for t in tickets %}
- {{ t.tier_name }} · código {{ t.code }}
  Código QR: {{ t.qr_url }}
{% endfor %}
Muestra el código QR de cada entrada en la puerta. Cada código vale una sola vez.

Ver tu orden: {{ order_url }}

— Tuki
