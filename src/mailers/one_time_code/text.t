Tu código de verificación es: {{ code }}

Este código expira en {{ minutes }} minutos.
