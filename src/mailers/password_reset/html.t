<!doctype html>
<html lang="es">
<body style="font-family: sans-serif; color: #111827; max-width: 560px; margin: 0 auto;">
  <p>Hola:</p>
  <p>Pediste restablecer la contraseña de tu cuenta Tuki ({{ email | escape }}).</p>
  <p><a href="{{ link | escape }}">Elegir una nueva contraseña</a> (el enlace vale una hora y una sola vez).</p>
  <p>Si no fuiste tú, ignora este correo: tu contraseña no cambia.</p>
  <p style="color: #6b7280;">— Tuki</p>
</body>
</html>
