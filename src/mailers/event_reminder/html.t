<!doctype html>
<html lang="es">
<body style="font-family: sans-serif; color: #111827; max-width: 560px; margin: 0 auto;">
  <h1 style="font-size: 20px;">Tu evento es pronto</h1>
  <p>Hola {{ customer_name | escape }},</p>
  <table style="border-collapse: collapse; margin: 16px 0;">
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Evento</td><td><strong>{{ event_title | escape }}</strong></td></tr>
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Fecha</td><td>{{ event_date | escape }}</td></tr>
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Lugar</td><td>{{ venue | escape }}</td></tr>
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Orden</td><td>{{ order_number | escape }} · {{ ticket_count }} entrada(s)</td></tr>
  </table>
  <p>Tus entradas con su código QR están en el correo de confirmación y en <a href="{{ order_url | escape }}">tu orden</a>.</p>
  <p>Muestra el código QR de cada entrada en la puerta. Cada código vale una sola vez.</p>
  <p style="color: #6b7280;">— Tuki</p>
</body>
</html>
