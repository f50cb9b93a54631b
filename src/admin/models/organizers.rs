//! Organizers and their members.

use crate::admin::{
    fields::{Field, Kind},
    hooks::Plain,
    site::{Child, ModelAdmin, OnDelete, CREATED, ID, UPDATED},
};

const ORGANIZER_STATUS: &[(&str, &str)] = &[
    ("active", "Activo"),
    ("pending", "Pendiente"),
    ("suspended", "Suspendido"),
];

pub static ORGANIZERS: ModelAdmin = ModelAdmin {
    app: "organizers",
    name: "organizer",
    table: "organizers",
    verbose: "Organizador",
    plural: "Organizadores",
    feminine: false,
    title: "name",
    fields: &[
        Field::new("name", "Nombre", Kind::Text(200)),
        Field::new("slug", "Slug", Kind::Slug(220)).unique(),
        Field::new("contact_email", "Correo de contacto", Kind::Email).blank(),
        Field::new("contact_phone", "Teléfono de contacto", Kind::Text(40)).blank(),
        Field::new("description", "Descripción", Kind::Textarea).blank(),
        Field::new("website", "Sitio web", Kind::Text(200)).blank(),
        Field::new("address", "Dirección", Kind::Text(255)).blank(),
        Field::new("city", "Ciudad", Kind::Text(100)).blank(),
        Field::new("country", "País", Kind::Text(100)).blank(),
        Field::new("representative_name", "Representante", Kind::Text(255)).blank(),
        Field::new(
            "representative_email",
            "Correo del representante",
            Kind::Email,
        )
        .blank(),
        Field::new(
            "representative_phone",
            "Teléfono del representante",
            Kind::Text(30),
        )
        .blank(),
        Field::new("onboarding_completed", "Registro completo", Kind::Bool),
        Field::new("status", "Estado", Kind::Choice(ORGANIZER_STATUS)).default("active"),
        CREATED,
        UPDATED,
        ID,
    ],
    list: &["name", "slug", "contact_email", "status", "created_at"],
    search: &["name", "slug", "contact_email"],
    filters: &["status"],
    ordering: "name",
    writable: true,
    children: &[
        Child {
            label: "Miembros",
            table: "organizer_members",
            fk: "organizer_id",
            title: "id",
            on_delete: OnDelete::Cascade,
        },
        Child {
            label: "Eventos",
            table: "events",
            fk: "organizer_id",
            title: "title",
            on_delete: OnDelete::Cascade,
        },
    ],
    inline: None,
    hooks: &Plain,
    extension: None,
    actions: &[],
    large: true,
    date_hierarchy: None,
    bulk: &[],
};

pub static MEMBERS: ModelAdmin = ModelAdmin {
    app: "organizers",
    name: "organizermember",
    table: "organizer_members",
    verbose: "Miembro de organizador",
    plural: "Miembros de organizadores",
    feminine: false,
    title: "id",
    fields: &[
        Field::new("organizer_id", "Organizador", Kind::Fk("organizer")),
        Field::new("user_id", "Usuario", Kind::Fk("user")),
        Field::new("is_admin", "Administrador", Kind::Bool),
        Field::new("can_manage_events", "Gestiona eventos", Kind::Bool),
        Field::new("can_view_reports", "Ve reportes", Kind::Bool),
        Field::new(
            "can_manage_settings",
            "Gestiona la configuración",
            Kind::Bool,
        ),
        CREATED,
        ID,
    ],
    list: &[
        "organizer_id",
        "user_id",
        "is_admin",
        "can_manage_events",
        "can_view_reports",
    ],
    search: &[],
    filters: &["organizer_id", "is_admin"],
    ordering: "-created_at",
    writable: true,
    children: &[],
    inline: None,
    hooks: &Plain,
    extension: None,
    actions: &[],
    large: false,
    date_hierarchy: None,
    bulk: &[],
};
