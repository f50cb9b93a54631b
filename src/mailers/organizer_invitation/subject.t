Te invitaron a {{ organizer }} en Tuki
