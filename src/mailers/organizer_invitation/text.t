Hola:

{{ inviter }} te invitó a ser parte del equipo de {{ organizer }} en Tuki.

Para entrar, abre el panel de organizadores e inicia sesión con este correo ({{ email }}): te enviaremos un código de acceso.

Si no esperabas esta invitación, ignora este correo.

— Tuki
