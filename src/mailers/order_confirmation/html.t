<!doctype html>
<html lang="es">
<body style="font-family: sans-serif; color: #111827; max-width: 560px; margin: 0 auto;">
  <h1 style="font-size: 20px;">¡Tu compra está confirmada!</h1>
  <p>Hola {{ customer_name | escape }},</p>
  <table style="border-collapse: collapse; margin: 16px 0;">
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Evento</td><td><strong>{{ event_title | escape }}</strong></td></tr>
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Fecha</td><td>{{ event_date | escape }}</td></tr>
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Orden</td><td>{{ order_number | escape }}</td></tr>
    <tr><td style="padding: 4px 12px 4px 0; color: #6b7280;">Total pagado</td><td>{{ total | escape }}</td></tr>
  </table>
  {% for t in tickets %}
  <div style="border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px; margin: 12px 0;">
    <p style="margin: 0 0 8px 0;"><strong>{{ t.tier_name | escape }}</strong> · código <code>{{ t.code | escape }}</code></p>
    <img src="{{ t.qr_url | escape }}" alt="Código QR de la entrada {{ t.code | escape }}" width="200" height="200">
  </div>
  {% endfor %}
  <p>Muestra el código QR de cada entrada en la puerta. Cada código vale una sola vez.</p>
  <p><a href="{{ order_url | escape }}">Ver tu orden</a></p>
  <p style="color: #6b7280;">— Tuki</p>
</body>
</html>
