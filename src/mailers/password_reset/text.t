Hola:

Pediste restablecer la contraseña de tu cuenta Tuki ({{ email }}).
Abre este enlace para elegir una nueva (vale una hora y una sola vez):

{{ link }}

Si no fuiste tú, ignora este correo: tu contraseña no cambia.

— Tuki
