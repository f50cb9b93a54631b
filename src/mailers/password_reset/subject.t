Restablece tu contraseña de Tuki
