<!doctype html>
<html lang="es">
<body style="font-family: sans-serif; color: #111827; max-width: 560px; margin: 0 auto;">
  <p>Hola:</p>
  <p>{{ inviter | escape }} te invitó a ser parte del equipo de <strong>{{ organizer | escape }}</strong> en Tuki.</p>
  <p>Para entrar, abre el panel de organizadores e inicia sesión con este correo ({{ email | escape }}): te enviaremos un código de acceso.</p>
  <p>Si no esperabas esta invitación, ignora este correo.</p>
  <p style="color: #6b7280;">— Tuki</p>
</body>
</html>
