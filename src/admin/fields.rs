//! Admin form fields: what a column is, how it shows in a list, how it fills a
//! form input and how a submitted input is parsed (with Django's Spanish
//! messages). Dates are shown and entered in Chile's time (America/Santiago),
//! money in whole pesos (`$12.990`).

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use sea_orm::{QueryResult, Value};
use uuid::Uuid;

/// What kind of value a column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// One line of text, at most this many characters.
    Text(usize),
    /// Several lines of text.
    Textarea,
    Email,
    /// Letters, digits, `-` and `_`, at most this many characters.
    Slug(usize),
    /// An `integer` column within bounds.
    Int {
        min: i64,
        max: i64,
    },
    /// Whole Chilean pesos in a `bigint` column, never negative.
    Money,
    /// A `double` column within bounds.
    Float {
        min: f64,
        max: f64,
    },
    Bool,
    DateTime,
    /// One of these `(value, label)` pairs.
    Choice(&'static [(&'static str, &'static str)]),
    /// The id of a row of the admin model with this name.
    Fk(&'static str),
    /// A bare id (never entered by hand).
    Uuid,
}

/// One column of a model as the admin sees it.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    /// An empty input stores NULL.
    pub null: bool,
    /// An empty input is allowed (stores "" for text).
    pub blank: bool,
    /// No two rows may share a value (checked before saving).
    pub unique: bool,
    /// Shown but never taken from a form.
    pub editable: bool,
    /// The input's value on an add form.
    pub default: &'static str,
    pub help: &'static str,
}

impl Field {
    #[must_use]
    pub const fn new(name: &'static str, label: &'static str, kind: Kind) -> Self {
        Self {
            name,
            label,
            kind,
            null: false,
            blank: false,
            unique: false,
            editable: true,
            default: "",
            help: "",
        }
    }

    /// Empty input stores NULL.
    #[must_use]
    pub const fn null(mut self) -> Self {
        self.null = true;
        self.blank = true;
        self
    }

    /// Empty input stores an empty text.
    #[must_use]
    pub const fn blank(mut self) -> Self {
        self.blank = true;
        self
    }

    #[must_use]
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    #[must_use]
    pub const fn readonly(mut self) -> Self {
        self.editable = false;
        self
    }

    #[must_use]
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = value;
        self
    }

    #[must_use]
    pub const fn help(mut self, text: &'static str) -> Self {
        self.help = text;
        self
    }

    /// Whether the column can be searched with `LIKE`.
    #[must_use]
    pub const fn is_text(&self) -> bool {
        matches!(
            self.kind,
            Kind::Text(_) | Kind::Textarea | Kind::Email | Kind::Slug(_)
        )
    }

    /// The HTML input this field is edited with.
    #[must_use]
    pub const fn widget(&self) -> &'static str {
        match self.kind {
            Kind::Text(_) | Kind::Slug(_) | Kind::Uuid => "text",
            Kind::Textarea => "textarea",
            Kind::Email => "email",
            Kind::Int { .. } | Kind::Money | Kind::Float { .. } => "number",
            Kind::Bool => "checkbox",
            Kind::DateTime => "datetime-local",
            Kind::Choice(_) | Kind::Fk(_) => "select",
        }
    }
}

/// A value read from or written to a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(DateTime<FixedOffset>),
    Uuid(Uuid),
}

impl Cell {
    /// Reads column `name` of a row as `kind`.
    #[must_use]
    pub fn read(row: &QueryResult, name: &str, kind: Kind) -> Self {
        let cell = match kind {
            Kind::Text(_) | Kind::Textarea | Kind::Email | Kind::Slug(_) | Kind::Choice(_) => row
                .try_get::<Option<String>>("", name)
                .ok()
                .flatten()
                .map(Self::Text),
            Kind::Int { .. } => row
                .try_get::<Option<i32>>("", name)
                .ok()
                .flatten()
                .map(|v| Self::Int(v.into())),
            Kind::Money => row
                .try_get::<Option<i64>>("", name)
                .ok()
                .flatten()
                .map(Self::Int),
            Kind::Float { .. } => row
                .try_get::<Option<f64>>("", name)
                .ok()
                .flatten()
                .map(Self::Float),
            Kind::Bool => row
                .try_get::<Option<bool>>("", name)
                .ok()
                .flatten()
                .map(Self::Bool),
            Kind::DateTime => row
                .try_get::<Option<DateTime<FixedOffset>>>("", name)
                .ok()
                .flatten()
                .map(Self::Time),
            Kind::Fk(_) | Kind::Uuid => row
                .try_get::<Option<Uuid>>("", name)
                .ok()
                .flatten()
                .map(Self::Uuid),
        };
        cell.unwrap_or(Self::Null)
    }

    /// The value to bind for a column of `kind` (a typed NULL for `Null`).
    #[must_use]
    pub fn value(&self, kind: Kind) -> Value {
        match (self, kind) {
            (Self::Text(s), _) => Value::String(Some(s.clone())),
            (Self::Int(i), Kind::Int { .. }) => {
                Value::Int(Some(i32::try_from(*i).unwrap_or(i32::MAX)))
            }
            (Self::Int(i), _) => Value::BigInt(Some(*i)),
            (Self::Float(f), _) => Value::Double(Some(*f)),
            (Self::Bool(b), _) => Value::Bool(Some(*b)),
            (Self::Time(t), _) => Value::ChronoDateTimeWithTimeZone(Some(*t)),
            (Self::Uuid(u), _) => Value::Uuid(Some(*u)),
            (Self::Null, Kind::Int { .. }) => Value::Int(None),
            (Self::Null, Kind::Money) => Value::BigInt(None),
            (Self::Null, Kind::Float { .. }) => Value::Double(None),
            (Self::Null, Kind::Bool) => Value::Bool(None),
            (Self::Null, Kind::DateTime) => Value::ChronoDateTimeWithTimeZone(None),
            (Self::Null, Kind::Fk(_) | Kind::Uuid) => Value::Uuid(None),
            (Self::Null, _) => Value::String(None),
        }
    }

    #[must_use]
    pub const fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Self::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text(s) => s,
            _ => "",
        }
    }

    #[must_use]
    pub const fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    #[must_use]
    pub const fn as_time(&self) -> Option<DateTime<FixedOffset>> {
        match self {
            Self::Time(t) => Some(*t),
            _ => None,
        }
    }

    /// How the value reads in a list or a read-only form (foreign keys are
    /// shown by the caller, which knows the related rows).
    #[must_use]
    pub fn display(&self, kind: Kind) -> String {
        match (self, kind) {
            (Self::Null, _) => "—".to_string(),
            (Self::Bool(b), _) => if *b { "Sí" } else { "No" }.to_string(),
            (Self::Int(i), Kind::Money) => clp(*i),
            (Self::Int(i), _) => i.to_string(),
            (Self::Float(f), _) => f.to_string().replace('.', ","),
            (Self::Time(t), _) => local_display(*t),
            (Self::Text(s), Kind::Choice(choices)) => choices
                .iter()
                .find(|(v, _)| v == s)
                .map_or_else(|| s.clone(), |(_, label)| (*label).to_string()),
            (Self::Text(s), _) => s.clone(),
            (Self::Uuid(u), _) => u.to_string(),
        }
    }

    /// The value of the form input for this cell.
    #[must_use]
    pub fn input(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Bool(b) => if *b { "on" } else { "" }.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Time(t) => t
                .with_timezone(&Santiago)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
            Self::Text(s) => s.clone(),
            Self::Uuid(u) => u.to_string(),
        }
    }
}

/// `$12.990`: pesos with Chilean thousands separators.
#[must_use]
pub fn clp(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}${out}", if amount < 0 { "-" } else { "" })
}

/// `26-11-2026 14:30` in Chile's time, as es-CL writes it.
#[must_use]
pub fn local_display(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Santiago)
        .format("%d-%m-%Y %H:%M")
        .to_string()
}

const REQUIRED: &str = "Este campo es obligatorio.";

/// Parses one submitted input (`None`: the input was not sent, as an unticked
/// checkbox). The error is the message to show next to the field.
///
/// # Errors
/// The message for the user when the input is not a valid value.
pub fn parse(field: &Field, raw: Option<&str>) -> Result<Cell, String> {
    if field.kind == Kind::Bool {
        return Ok(Cell::Bool(raw.is_some_and(|v| !v.is_empty())));
    }
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return if field.null {
            Ok(Cell::Null)
        } else if field.blank && (field.is_text() || matches!(field.kind, Kind::Choice(_))) {
            Ok(Cell::Text(String::new()))
        } else {
            Err(REQUIRED.to_string())
        };
    }
    match field.kind {
        Kind::Text(max) | Kind::Slug(max) => {
            let n = raw.chars().count();
            if n > max {
                return Err(format!(
                    "Asegúrese de que este valor tenga como máximo {max} caracteres (tiene {n})."
                ));
            }
            if matches!(field.kind, Kind::Slug(_))
                && !raw
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err("Introduzca un «slug» válido: letras, números, guiones bajos o guiones, sin espacios ni tildes.".to_string());
            }
            Ok(Cell::Text(raw.to_string()))
        }
        Kind::Textarea => Ok(Cell::Text(raw.replace("\r\n", "\n"))),
        Kind::Email => crate::models::users::Email::parse(raw)
            .map(|e| Cell::Text(e.as_str().to_string()))
            .map_err(|_| "Introduzca una dirección de correo electrónico válida.".to_string()),
        Kind::Int { min, max } => {
            let v: i64 = raw
                .parse()
                .map_err(|_| "Introduzca un número entero.".to_string())?;
            if v < min {
                return Err(format!(
                    "Asegúrese de que este valor sea mayor o igual a {min}."
                ));
            }
            if v > max {
                return Err(format!(
                    "Asegúrese de que este valor sea menor o igual a {max}."
                ));
            }
            Ok(Cell::Int(v))
        }
        Kind::Money => {
            // People write pesos as "$12.990": dots are thousands separators.
            let cleaned: String = raw
                .chars()
                .filter(|c| !matches!(c, '$' | '.' | ' '))
                .collect();
            let v: i64 = cleaned
                .parse()
                .map_err(|_| "Introduzca un monto en pesos, sin decimales.".to_string())?;
            if v < 0 {
                return Err("El monto no puede ser negativo.".to_string());
            }
            Ok(Cell::Int(v))
        }
        Kind::Float { min, max } => {
            let v: f64 = raw
                .replace(',', ".")
                .parse()
                .map_err(|_| "Introduzca un número.".to_string())?;
            if !v.is_finite() || v < min || v > max {
                return Err(format!("Introduzca un número entre {min} y {max}."));
            }
            Ok(Cell::Float(v))
        }
        Kind::DateTime => parse_local(raw).map(Cell::Time),
        Kind::Choice(choices) => {
            if choices.iter().any(|(v, _)| *v == raw) {
                Ok(Cell::Text(raw.to_string()))
            } else {
                Err(format!(
                    "Escoja una opción válida. «{raw}» no es una de las opciones disponibles."
                ))
            }
        }
        Kind::Fk(_) | Kind::Uuid => Uuid::parse_str(raw).map(Cell::Uuid).map_err(|_| {
            "Escoja una opción válida. Esa opción no está entre las disponibles.".to_string()
        }),
        Kind::Bool => unreachable!("handled above"),
    }
}

/// A date and time as typed in Chile (`2026-12-05T21:00`, seconds optional).
fn parse_local(raw: &str) -> Result<DateTime<FixedOffset>, String> {
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .ok_or_else(|| "Introduzca una fecha y hora válidas.".to_string())?;
    let local = match Santiago.from_local_datetime(&naive) {
        LocalResult::Single(t) => t,
        // The hour repeated when clocks go back: the first one, as Django.
        LocalResult::Ambiguous(first, _) => first,
        LocalResult::None => {
            return Err("Esa hora no existe en Chile (cambio de horario).".to_string())
        }
    };
    Ok(local.with_timezone(&Utc).fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: Field = Field::new("title", "Título", Kind::Text(5));

    #[test]
    fn pesos_have_chilean_separators() {
        assert_eq!(clp(0), "$0");
        assert_eq!(clp(990), "$990");
        assert_eq!(clp(12_990), "$12.990");
        assert_eq!(clp(1_234_567), "$1.234.567");
        assert_eq!(clp(-5_000), "-$5.000");
    }

    #[test]
    fn text_is_required_unless_blank_and_bounded() {
        assert_eq!(parse(&TITLE, Some("  ")).unwrap_err(), REQUIRED);
        assert_eq!(
            parse(&TITLE.blank(), None).unwrap(),
            Cell::Text(String::new())
        );
        assert_eq!(parse(&TITLE.null(), Some("")).unwrap(), Cell::Null);
        assert!(parse(&TITLE, Some("abcdef"))
            .unwrap_err()
            .contains("máximo 5"));
        assert_eq!(
            parse(&TITLE, Some(" ab ")).unwrap(),
            Cell::Text("ab".into())
        );
    }

    #[test]
    fn money_accepts_how_people_write_pesos() {
        let f = Field::new("price", "Precio", Kind::Money);
        assert_eq!(parse(&f, Some("$12.990")).unwrap(), Cell::Int(12_990));
        assert!(parse(&f, Some("-1")).is_err());
        assert!(parse(&f, Some("12,5")).is_err());
    }

    #[test]
    fn checkboxes_and_choices() {
        let b = Field::new("featured", "Destacado", Kind::Bool);
        assert_eq!(parse(&b, None).unwrap(), Cell::Bool(false));
        assert_eq!(parse(&b, Some("on")).unwrap(), Cell::Bool(true));
        let c = Field::new("status", "Estado", Kind::Choice(&[("draft", "Borrador")]));
        assert!(parse(&c, Some("gone")).is_err());
        assert_eq!(
            Cell::Text("draft".into()).display(c.kind),
            "Borrador".to_string()
        );
    }

    #[test]
    fn dates_are_chilean_local_time_both_ways() {
        let f = Field::new("start_date", "Inicio", Kind::DateTime);
        // December: Chile is on summer time, UTC-3.
        let cell = parse(&f, Some("2026-12-05T21:00")).unwrap();
        assert_eq!(
            cell.as_time().unwrap().with_timezone(&Utc).to_rfc3339(),
            "2026-12-06T00:00:00+00:00"
        );
        assert_eq!(cell.input(), "2026-12-05T21:00");
        assert_eq!(cell.display(f.kind), "05-12-2026 21:00");
        // July: winter time, UTC-4.
        let winter = parse(&f, Some("2026-07-01T10:00")).unwrap();
        assert_eq!(
            winter.as_time().unwrap().with_timezone(&Utc).to_rfc3339(),
            "2026-07-01T14:00:00+00:00"
        );
        assert!(parse(&f, Some("mañana")).is_err());
    }

    #[test]
    fn ints_are_bounded() {
        let f = Field::new("n", "N", Kind::Int { min: 1, max: 10 });
        assert!(parse(&f, Some("0"))
            .unwrap_err()
            .contains("mayor o igual a 1"));
        assert!(parse(&f, Some("x")).is_err());
        assert_eq!(parse(&f, Some("3")).unwrap(), Cell::Int(3));
    }
}
