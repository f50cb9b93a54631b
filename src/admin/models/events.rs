//! Events with their ticket tiers inline and their images, categories and
//! places. The rules between dates and between a tier's limits are the
//! form's `clean`; the images are the [`Images`] section.

use async_trait::async_trait;
use loco_rs::prelude::*;
use serde_json::{json, Value as Json};

use crate::{
    admin::{
        error::AdminResult,
        fields::{Field, Kind},
        form::{FormData, FormState},
        hooks::{Checked, Extension, Hooks, Plain, Shown, Submitted},
        site::{Child, Inline, ModelAdmin, OnDelete, CREATED, ID, UPDATED},
        store::Row,
    },
    models::event_images,
    platform::storage::ImageKind,
};

const EVENT_STATUS: &[(&str, &str)] = &[
    ("draft", "Borrador"),
    ("published", "Publicado"),
    ("cancelled", "Cancelado"),
    ("completed", "Finalizado"),
];
const VISIBILITY: &[(&str, &str)] = &[("public", "Público"), ("private", "Privado")];
/// The types the organizer dashboard offers (`organizer_events::TYPES`).
const EVENT_TYPE: &[(&str, &str)] = &[
    ("conference", "Conferencia"),
    ("concert", "Concierto"),
    ("sports", "Deportes"),
    ("theater", "Teatro"),
    ("workshop", "Taller"),
    ("festival", "Festival"),
    ("party", "Fiesta"),
    ("rifa", "Rifa"),
    ("other", "Otro"),
];

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
        Field::new("description", "Descripción", Kind::Textarea).blank(),
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
    hooks: &Plain,
    extension: None,
    actions: &[],
    large: false,
    date_hierarchy: None,
    bulk: &[],
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
    hooks: &Plain,
    extension: None,
    actions: &[],
    large: false,
    date_hierarchy: None,
    bulk: &[],
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
        Field::new("tags", "Etiquetas", Kind::Text(500))
            .blank()
            .help("Separadas por comas."),
        Field::new("age_restriction", "Edad mínima", Kind::Text(50))
            .blank()
            .help("Por ejemplo «18+»."),
        Field::new("dresscode", "Código de vestimenta", Kind::Text(100)).blank(),
        Field::new("accessibility", "Accesibilidad", Kind::Text(255)).blank(),
        Field::new("parking", "Estacionamiento", Kind::Text(255)).blank(),
        Field::new("type", "Tipo", Kind::Choice(EVENT_TYPE)).blank(),
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
        Field::new(
            "views_count",
            "Visitas",
            Kind::Int {
                min: 0,
                max: i64::MAX,
            },
        )
        .readonly()
        .default("0"),
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
    hooks: &EventRules,
    extension: Some(&Images),
    actions: &[],
    large: true,
    date_hierarchy: Some("start_date"),
    bulk: &[],
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
        Field::new("tier_type", "Clase", Kind::Text(50))
            .blank()
            .help("Por ejemplo «General» o «VIP»."),
        Field::new("description", "Descripción", Kind::Textarea).blank(),
        Field::new("benefits", "Beneficios", Kind::Text(500))
            .blank()
            .help("Separados por comas."),
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
        Field::new("is_highlighted", "Destacado", Kind::Bool),
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
    hooks: &TierRules,
    extension: None,
    actions: &[],
    large: true,
    date_hierarchy: None,
    bulk: &[],
};

/// An event ends after it starts, and its sales end after they start.
pub struct EventRules;

impl Hooks for EventRules {
    fn clean(&self, _m: &ModelAdmin, form: &mut FormState, _existing: Option<&Row>) {
        form.ordered(
            "start_date",
            "end_date",
            "El término debe ser posterior al inicio.",
        );
        form.ordered(
            "ticket_sales_start",
            "ticket_sales_end",
            "El fin de venta debe ser posterior a su inicio.",
        );
    }
}

/// A tier's maximum per order is not below its minimum, its sales end after
/// they start, and its capacity never drops below what is sold or held.
pub struct TierRules;

impl Hooks for TierRules {
    fn clean(&self, m: &ModelAdmin, form: &mut FormState, existing: Option<&Row>) {
        if let (Some(min), Some(max)) = (form.int("min_per_order"), form.int("max_per_order")) {
            if max < min {
                form.error(
                    "max_per_order",
                    "El máximo por compra no puede ser menor que el mínimo.",
                );
            }
        }
        form.ordered(
            "sale_start",
            "sale_end",
            "El fin de venta debe ser posterior a su inicio.",
        );
        if let (Some(cap), Some(row)) = (form.int("capacity"), existing) {
            let taken = row.get(m, "sold").as_int().unwrap_or(0)
                + row.get(m, "reserved").as_int().unwrap_or(0);
            if cap < taken {
                form.error(
                    "capacity",
                    format!("La capacidad no puede ser menor que las {taken} entradas ya vendidas o reservadas."),
                );
            }
        }
    }
}

/// An event's images: listed, ticked for removal, one uploaded per save
/// (checked before anything is saved, stored after the commit).
pub struct Images;

#[async_trait]
impl Extension for Images {
    fn key(&self) -> &'static str {
        "images"
    }

    fn multipart(&self) -> bool {
        true
    }

    async fn section(&self, ctx: &AppContext, shown: Shown<'_>) -> Result<Json> {
        let Some(r) = shown.row else {
            return Ok(if shown.writable {
                json!({ "list": [], "editable": true, "errors": shown.errors })
            } else {
                Json::Null
            });
        };
        let settings = crate::platform::context::settings(ctx)?;
        let base = settings
            .media
            .public_base
            .clone()
            .unwrap_or_else(|| "/media/".to_string());
        let list = event_images::Entity::find()
            .filter(event_images::Column::EventId.eq(r.id))
            .order_by_asc(event_images::Column::Position)
            .all(&ctx.db)
            .await?;
        Ok(json!({
            "list": list.iter().map(|i| json!({
                "id": i.id,
                "url": format!("{base}{}", i.path),
                "alt": i.alt,
            })).collect::<Vec<_>>(),
            "editable": shown.writable,
            "errors": shown.errors,
        }))
    }

    async fn check(&self, s: Submitted<'_>) -> AdminResult<Checked> {
        let mut checked = Checked::default();
        if let Some((_, bytes)) = s.input.files.get("images-new") {
            if bytes.len() > event_images::MAX_IMAGE_BYTES {
                checked
                    .errors
                    .push(event_images::ImageError::TooLarge.to_string());
            } else if ImageKind::sniff(bytes).is_none() {
                checked
                    .errors
                    .push(event_images::ImageError::NotAnImage.to_string());
            }
        }
        Ok(checked)
    }

    /// Removes the ticked images of this event and stores the new one.
    async fn after(&self, ctx: &AppContext, id: uuid::Uuid, input: &FormData) -> Result<String> {
        let mut note = String::new();
        let ticked = input
            .values
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("images-")?.strip_suffix("-DELETE"))
            .filter_map(|s| uuid::Uuid::parse_str(s).ok());
        for image in ticked {
            let mine = event_images::Entity::find_by_id(image)
                .one(&ctx.db)
                .await?
                .is_some_and(|i| i.event_id == id);
            if mine {
                if let Err(e) = event_images::remove(ctx, image).await {
                    tracing::warn!(error = %e, "an image could not be removed");
                    note = " Una imagen no se pudo eliminar; inténtalo de nuevo.".to_string();
                }
            }
        }
        if let Some((_, bytes)) = input.files.get("images-new") {
            let alt = input.get("images-new-alt").unwrap_or("").trim();
            if let Err(e) = event_images::add(ctx, id, bytes.clone(), alt).await {
                tracing::error!(error = %e, "an image could not be stored");
                note = " La imagen no se pudo guardar; inténtalo de nuevo.".to_string();
            }
        }
        Ok(note)
    }
}
