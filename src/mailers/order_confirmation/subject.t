Tus entradas para {{ event_title }} · orden {{ order_number }}
