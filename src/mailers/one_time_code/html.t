<!doctype html>
<html lang="es">
<body style="font-family: sans-serif; color: #111827; max-width: 560px; margin: 0 auto;">
  <p>Hola:</p>
  <p>Tu código de verificación es:</p>
  <p style="font-size: 28px; letter-spacing: 6px; font-weight: bold;">{{ code | escape }}</p>
  <p>Este código expira en {{ minutes | escape }} minutos y sirve una sola vez.</p>
  <p>Si no lo pediste, ignora este correo.</p>
  <p style="color: #6b7280;">— Tuki</p>
</body>
</html>
