//! The admin's models, declared: each is a [`ModelAdmin`] (columns, search,
//! filters, form fields, what goes with a delete) that the shared list, form,
//! delete and history pages render. URLs follow Django's
//! `/admin/{app}/{model}/`, so staff bookmarks keep working.

use super::fields::{Field, Kind};

/// What happens to a row pointing at a deleted object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// Deleted with it.
    Cascade,
    /// Forbids the delete while it exists.
    Protect,
    /// Kept, with the reference cleared.
    SetNull,
}

/// Rows of another table that point at this model.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    pub label: &'static str,
    pub table: &'static str,
    pub fk: &'static str,
    /// The column that names a row of it.
    pub title: &'static str,
    pub on_delete: OnDelete,
}

/// Rows of another admin model edited on this model's form.
#[derive(Debug, Clone, Copy)]
pub struct Inline {
    /// The admin model's name (`tickettier`).
    pub model: &'static str,
    /// Its column pointing at this model.
    pub fk: &'static str,
    /// Blank rows offered for new objects.
    pub extra: usize,
}

#[derive(Debug)]
pub struct ModelAdmin {
    pub app: &'static str,
    /// The URL segment, Django's `model_name`.
    pub name: &'static str,
    pub table: &'static str,
    pub verbose: &'static str,
    pub plural: &'static str,
    /// Feminine noun (for "la" / "nueva" in messages).
    pub feminine: bool,
    /// The column that names an object (Django's `__str__`).
    pub title: &'static str,
    pub fields: &'static [Field],
    pub list: &'static [&'static str],
    pub search: &'static [&'static str],
    pub filters: &'static [&'static str],
    /// Default order: a column, `-` first for descending.
    pub ordering: &'static str,
    /// `false` for records of what people paid (orders, payments, tickets):
    /// viewable, never added, edited or deleted by hand.
    pub writable: bool,
    pub children: &'static [Child],
    pub inline: Option<Inline>,
    /// The form also uploads and removes the event's images.
    pub images: bool,
}

impl ModelAdmin {
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("/admin/{}/{}/", self.app, self.name)
    }

    /// The permission codename for an action (`events.change`).
    #[must_use]
    pub fn codename(&self, action: Action) -> String {
        format!("{}.{}", self.name, action.as_str())
    }

    /// "el evento" / "la categoría".
    #[must_use]
    pub fn the(&self) -> String {
        format!(
            "{} {}",
            if self.feminine { "la" } else { "el" },
            self.verbose.to_lowercase()
        )
    }
}

/// What a user may do with a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    View,
    Add,
    Change,
    Delete,
}

impl Action {
    pub const ALL: [Self; 4] = [Self::View, Self::Add, Self::Change, Self::Delete];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Add => "add",
            Self::Change => "change",
            Self::Delete => "delete",
        }
    }

    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::View => "Ver",
            Self::Add => "Añadir",
            Self::Change => "Modificar",
            Self::Delete => "Eliminar",
        }
    }
}

const CREATED: Field = Field::new("created_at", "Creado", Kind::DateTime).readonly();
const UPDATED: Field = Field::new("updated_at", "Modificado", Kind::DateTime).readonly();
const ID: Field = Field::new("id", "ID", Kind::Uuid).readonly();

const ORGANIZER_STATUS: &[(&str, &str)] = &[
    ("active", "Activo"),
    ("pending", "Pendiente"),
    ("suspended", "Suspendido"),
];
const EVENT_STATUS: &[(&str, &str)] = &[
    ("draft", "Borrador"),
    ("published", "Publicado"),
    ("cancelled", "Cancelado"),
    ("completed", "Finalizado"),
];
const VISIBILITY: &[(&str, &str)] = &[("public", "Público"), ("private", "Privado")];
const ORDER_STATUS: &[(&str, &str)] = &[
    ("pending", "Pendiente de pago"),
    ("paid", "Pagada"),
    ("cancelled", "Cancelada"),
    ("expired", "Expirada"),
    ("failed", "Pago fallido"),
    ("refunded", "Reembolsada"),
    ("partially_refunded", "Reembolso parcial"),
];
const TICKET_STATUS: &[(&str, &str)] = &[
    ("valid", "Válida"),
    ("used", "Usada"),
    ("cancelled", "Anulada"),
];
const PAYMENT_STATUS: &[(&str, &str)] = &[
    ("created", "Creado"),
    ("committing", "Confirmando"),
    ("authorized", "Autorizado"),
    ("rejected", "Rechazado"),
    ("aborted", "Anulado por el comprador"),
    ("timeout", "Expirado en Webpay"),
    ("failed", "Fallido"),
    ("unknown", "Desconocido"),
];

pub static USERS: ModelAdmin = ModelAdmin {
    app: "users",
    name: "user",
    table: "users",
    verbose: "Usuario",
    plural: "Usuarios",
    feminine: false,
    title: "email",
    fields: &[
        Field::new("email", "Correo electrónico", Kind::Email).unique(),
        Field::new("username", "Nombre de usuario", Kind::Text(150)).unique(),
        Field::new("first_name", "Nombre", Kind::Text(150)).blank(),
        Field::new("last_name", "Apellido", Kind::Text(150)).blank(),
        Field::new("is_active", "Activo", Kind::Bool)
            .default("on")
            .help("Desmárcalo en vez de eliminar la cuenta."),
        Field::new("is_staff", "Es staff", Kind::Bool)
            .help("Puede entrar a esta administración. Solo un superusuario lo cambia."),
        Field::new("is_superuser", "Es superusuario", Kind::Bool)
            .help("Tiene todos los permisos. Solo un superusuario lo cambia."),
        Field::new("is_organizer", "Es organizador", Kind::Bool),
        Field::new("is_validator", "Es validador", Kind::Bool)
            .help("Puede validar entradas en la puerta."),
        Field::new("last_login", "Último acceso", Kind::DateTime)
            .null()
            .readonly(),
        Field::new("date_joined", "Fecha de alta", Kind::DateTime).readonly(),
        ID,
    ],
    list: &[
        "email",
        "username",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
    ],
    search: &["email", "username", "first_name", "last_name"],
    filters: &["is_staff", "is_superuser", "is_active", "is_organizer"],
    ordering: "email",
    writable: true,
    children: &[
        Child {
            label: "Membresías de organizador",
            table: "organizer_members",
            fk: "user_id",
            title: "id",
            on_delete: OnDelete::Cascade,
        },
        Child {
            label: "Órdenes (se conservan sin usuario)",
            table: "orders",
            fk: "user_id",
            title: "order_number",
            on_delete: OnDelete::SetNull,
        },
    ],
    inline: None,
    images: false,
};

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
    images: false,
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
    images: false,
};

pub static CATEGORIES: ModelAdmin = ModelAdmin {
    app: "events",
    name: "eventcategory",
    table: "event_categories",
    verbose: "Categoría",
    plural: "Categorías",
    feminine: true,
    title: "name",
    fields: &[
        Field::new("name", "Nombre", Kind::Text(100)),
        Field::new("slug", "Slug", Kind::Slug(120)).unique(),
        CREATED,
        ID,
    ],
    list: &["name", "slug"],
    search: &["name", "slug"],
    filters: &[],
    ordering: "name",
    writable: true,
    children: &[Child {
        label: "Eventos",
        table: "events",
        fk: "category_id",
        title: "title",
        on_delete: OnDelete::Protect,
    }],
    inline: None,
    images: false,
};

pub static LOCATIONS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "location",
    table: "locations",
    verbose: "Lugar",
    plural: "Lugares",
    feminine: false,
    title: "name",
    fields: &[
        Field::new("name", "Nombre", Kind::Text(200)),
        Field::new("address", "Dirección", Kind::Text(255)).blank(),
        Field::new("city", "Ciudad", Kind::Text(100)).blank(),
        Field::new("country", "País", Kind::Text(100))
            .blank()
            .default("Chile"),
        Field::new(
            "latitude",
            "Latitud",
            Kind::Float {
                min: -90.0,
                max: 90.0,
            },
        )
        .null(),
        Field::new(
            "longitude",
            "Longitud",
            Kind::Float {
                min: -180.0,
                max: 180.0,
            },
        )
        .null(),
        CREATED,
        ID,
    ],
    list: &["name", "city", "country", "address"],
    search: &["name", "city", "address"],
    filters: &["city"],
    ordering: "name",
    writable: true,
    children: &[Child {
        label: "Eventos",
        table: "events",
        fk: "location_id",
        title: "title",
        on_delete: OnDelete::Protect,
    }],
    inline: None,
    images: false,
};

pub static EVENTS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "event",
    table: "events",
    verbose: "Evento",
    plural: "Eventos",
    feminine: false,
    title: "title",
    fields: &[
        Field::new("title", "Título", Kind::Text(200)),
        Field::new("slug", "Slug", Kind::Slug(220))
            .unique()
            .help("La dirección pública del evento: letras, números y guiones."),
        Field::new("organizer_id", "Organizador", Kind::Fk("organizer")),
        Field::new("category_id", "Categoría", Kind::Fk("eventcategory")).null(),
        Field::new("location_id", "Lugar", Kind::Fk("location")).null(),
        Field::new("short_description", "Descripción corta", Kind::Text(255)).blank(),
        Field::new("description", "Descripción", Kind::Textarea).blank(),
        Field::new("type", "Tipo", Kind::Text(20))
            .blank()
            .help("concert, festival, theater, sports, conference, workshop, party u other."),
        Field::new("status", "Estado", Kind::Choice(EVENT_STATUS)).default("draft"),
        Field::new("visibility", "Visibilidad", Kind::Choice(VISIBILITY)).default("public"),
        Field::new("featured", "Destacado", Kind::Bool),
        Field::new("start_date", "Inicio", Kind::DateTime).help("Hora de Chile."),
        Field::new("end_date", "Término", Kind::DateTime),
        Field::new("ticket_sales_start", "Inicio de venta", Kind::DateTime).null(),
        Field::new("ticket_sales_end", "Fin de venta", Kind::DateTime).null(),
        Field::new(
            "max_tickets_per_purchase",
            "Máximo de entradas por compra",
            Kind::Int { min: 1, max: 1000 },
        )
        .null(),
        Field::new(
            "service_fee_bps",
            "Cargo por servicio (puntos base)",
            Kind::Int {
                min: 0,
                max: 10_000,
            },
        )
        .default("0")
        .help("100 = 1 %."),
        Field::new("deleted_at", "Eliminado (oculto)", Kind::DateTime)
            .null()
            .help("Con fecha, el evento deja de mostrarse sin borrar sus órdenes."),
        CREATED,
        UPDATED,
        ID,
    ],
    list: &[
        "title",
        "organizer_id",
        "start_date",
        "status",
        "visibility",
        "featured",
    ],
    search: &["title", "slug", "short_description"],
    filters: &[
        "status",
        "visibility",
        "featured",
        "organizer_id",
        "category_id",
    ],
    ordering: "-start_date",
    writable: true,
    children: &[
        Child {
            label: "Tipos de entrada",
            table: "ticket_tiers",
            fk: "event_id",
            title: "name",
            on_delete: OnDelete::Cascade,
        },
        Child {
            label: "Imágenes",
            table: "event_images",
            fk: "event_id",
            title: "path",
            on_delete: OnDelete::Cascade,
        },
        Child {
            label: "Órdenes",
            table: "orders",
            fk: "event_id",
            title: "order_number",
            on_delete: OnDelete::Protect,
        },
    ],
    inline: Some(Inline {
        model: "tickettier",
        fk: "event_id",
        extra: 1,
    }),
    images: true,
};

pub static TIERS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "tickettier",
    table: "ticket_tiers",
    verbose: "Tipo de entrada",
    plural: "Tipos de entrada",
    feminine: false,
    title: "name",
    fields: &[
        Field::new("event_id", "Evento", Kind::Fk("event")),
        Field::new("name", "Nombre", Kind::Text(100)),
        Field::new("description", "Descripción", Kind::Textarea).blank(),
        Field::new("price", "Precio (CLP)", Kind::Money),
        Field::new(
            "capacity",
            "Capacidad",
            Kind::Int {
                min: 0,
                max: 10_000_000,
            },
        )
        .null()
        .help("Vacío = sin límite."),
        Field::new(
            "sold",
            "Vendidas",
            Kind::Int {
                min: 0,
                max: i64::MAX,
            },
        )
        .readonly()
        .default("0"),
        Field::new(
            "reserved",
            "Reservadas",
            Kind::Int {
                min: 0,
                max: i64::MAX,
            },
        )
        .readonly()
        .default("0"),
        Field::new(
            "min_per_order",
            "Mínimo por compra",
            Kind::Int { min: 1, max: 1000 },
        )
        .default("1"),
        Field::new(
            "max_per_order",
            "Máximo por compra",
            Kind::Int { min: 1, max: 1000 },
        )
        .null(),
        Field::new("sale_start", "Inicio de venta", Kind::DateTime).null(),
        Field::new("sale_end", "Fin de venta", Kind::DateTime).null(),
        Field::new("is_public", "Público", Kind::Bool).default("on"),
        Field::new(
            "display_order",
            "Orden",
            Kind::Int {
                min: 0,
                max: 10_000,
            },
        )
        .default("0"),
        ID,
    ],
    list: &[
        "name",
        "event_id",
        "price",
        "capacity",
        "sold",
        "reserved",
        "is_public",
    ],
    search: &["name"],
    filters: &["is_public", "event_id"],
    ordering: "display_order",
    writable: true,
    children: &[
        Child {
            label: "Ítems de órdenes",
            table: "order_items",
            fk: "tier_id",
            title: "tier_name",
            on_delete: OnDelete::Protect,
        },
        Child {
            label: "Entradas",
            table: "tickets",
            fk: "tier_id",
            title: "code",
            on_delete: OnDelete::Protect,
        },
    ],
    inline: None,
    images: false,
};

pub static ORDERS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "order",
    table: "orders",
    verbose: "Orden",
    plural: "Órdenes",
    feminine: true,
    title: "order_number",
    fields: &[
        Field::new("order_number", "Número", Kind::Text(40)).readonly(),
        Field::new("event_id", "Evento", Kind::Fk("event")).readonly(),
        Field::new("user_id", "Usuario", Kind::Fk("user"))
            .null()
            .readonly(),
        Field::new("status", "Estado", Kind::Choice(ORDER_STATUS)).readonly(),
        Field::new("customer_name", "Nombre del comprador", Kind::Text(200)).readonly(),
        Field::new("customer_email", "Correo del comprador", Kind::Email).readonly(),
        Field::new("customer_phone", "Teléfono del comprador", Kind::Text(40)).readonly(),
        Field::new("subtotal", "Subtotal", Kind::Money).readonly(),
        Field::new("service_fee", "Cargo por servicio", Kind::Money).readonly(),
        Field::new("total", "Total", Kind::Money).readonly(),
        Field::new("refunded_amount", "Reembolsado", Kind::Money).readonly(),
        Field::new("paid_at", "Pagada", Kind::DateTime)
            .null()
            .readonly(),
        Field::new("confirmation_sent", "Confirmación enviada", Kind::Bool).readonly(),
        CREATED,
        ID,
    ],
    list: &[
        "order_number",
        "event_id",
        "customer_email",
        "status",
        "total",
        "created_at",
    ],
    search: &["order_number", "customer_email", "customer_name"],
    filters: &["status", "event_id"],
    ordering: "-created_at",
    writable: false,
    children: &[],
    inline: None,
    images: false,
};

pub static TICKETS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "ticket",
    table: "tickets",
    verbose: "Entrada",
    plural: "Entradas",
    feminine: true,
    title: "code",
    fields: &[
        Field::new("code", "Código", Kind::Text(64)).readonly(),
        Field::new("order_id", "Orden", Kind::Fk("order")).readonly(),
        Field::new("event_id", "Evento", Kind::Fk("event")).readonly(),
        Field::new("tier_id", "Tipo de entrada", Kind::Fk("tickettier")).readonly(),
        Field::new("attendee_name", "Asistente", Kind::Text(200)).readonly(),
        Field::new("status", "Estado", Kind::Choice(TICKET_STATUS)).readonly(),
        Field::new("used_at", "Usada", Kind::DateTime)
            .null()
            .readonly(),
        Field::new("used_by", "Validada por", Kind::Fk("user"))
            .null()
            .readonly(),
        CREATED,
        ID,
    ],
    list: &[
        "code",
        "event_id",
        "tier_id",
        "attendee_name",
        "status",
        "used_at",
    ],
    search: &["code", "attendee_name"],
    filters: &["status", "event_id"],
    ordering: "-created_at",
    writable: false,
    children: &[],
    inline: None,
    images: false,
};

pub static PAYMENTS: ModelAdmin = ModelAdmin {
    app: "payments",
    name: "payment",
    table: "payments",
    verbose: "Pago",
    plural: "Pagos",
    feminine: false,
    title: "buy_order",
    fields: &[
        Field::new("order_id", "Orden", Kind::Fk("order")).readonly(),
        Field::new("buy_order", "Orden de compra (Webpay)", Kind::Text(40)).readonly(),
        Field::new("amount", "Monto", Kind::Money).readonly(),
        Field::new("status", "Estado", Kind::Choice(PAYMENT_STATUS)).readonly(),
        Field::new(
            "response_code",
            "Código de respuesta",
            Kind::Int {
                min: i64::MIN,
                max: i64::MAX,
            },
        )
        .null()
        .readonly(),
        Field::new(
            "authorization_code",
            "Código de autorización",
            Kind::Text(20),
        )
        .readonly(),
        Field::new("card_last4", "Tarjeta (últimos 4)", Kind::Text(4)).readonly(),
        Field::new("payment_type_code", "Tipo de pago", Kind::Text(4)).readonly(),
        Field::new("refunded_amount", "Reembolsado", Kind::Money).readonly(),
        Field::new("detail", "Detalle", Kind::Textarea).readonly(),
        CREATED,
        ID,
    ],
    list: &[
        "buy_order",
        "order_id",
        "amount",
        "status",
        "card_last4",
        "created_at",
    ],
    search: &["buy_order", "authorization_code"],
    filters: &["status"],
    ordering: "-created_at",
    writable: false,
    children: &[],
    inline: None,
    images: false,
};

/// Every model, in the order the index lists them.
pub static MODELS: &[&ModelAdmin] = &[
    &USERS,
    &ORGANIZERS,
    &MEMBERS,
    &CATEGORIES,
    &LOCATIONS,
    &EVENTS,
    &TIERS,
    &ORDERS,
    &TICKETS,
    &PAYMENTS,
];

/// The model at `/admin/{app}/{name}/`.
#[must_use]
pub fn find(app: &str, name: &str) -> Option<&'static ModelAdmin> {
    MODELS
        .iter()
        .copied()
        .find(|m| m.app == app && m.name == name)
}

/// The model with this name (foreign keys and inlines name models this way).
#[must_use]
pub fn by_name(name: &str) -> Option<&'static ModelAdmin> {
    MODELS.iter().copied().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_names_a_declared_column_or_model() {
        for m in MODELS {
            for name in m.list.iter().chain(m.search).chain(m.filters) {
                assert!(m.field(name).is_some(), "{}: no field {name}", m.name);
            }
            for f in m.fields {
                if let Kind::Fk(target) = f.kind {
                    assert!(
                        by_name(target).is_some(),
                        "{}.{}: no model {target}",
                        m.name,
                        f.name
                    );
                }
            }
            for s in m.search {
                assert!(m.field(s).unwrap().is_text(), "{}: {s} is not text", m.name);
            }
            if let Some(inline) = m.inline {
                let child = by_name(inline.model).unwrap();
                assert!(child.field(inline.fk).is_some());
            }
            let order = m.ordering.trim_start_matches('-');
            assert!(m.field(order).is_some(), "{}: ordering {order}", m.name);
            assert!(m.field(m.title).is_some(), "{}: title {}", m.name, m.title);
        }
    }
}
