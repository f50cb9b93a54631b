Hola {{ customer_name }}:

Te recordamos que tu evento es pronto.

Evento: {{ event_title }}
Fecha: {{ event_date }}
Lugar: {{ venue }}
Orden: {{ order_number }} · {{ ticket_count }} entrada(s)

Tus entradas con su código QR están en el correo de confirmación y en tu orden:
{{ order_url }}

Muestra el código QR de cada entrada en la puerta. Cada código vale una sola vez.

— Tuki
