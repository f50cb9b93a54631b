//! The admin's reads and writes, built from a model's declaration: one
//! statement per list page, count, object, insert, update or delete, with
//! every value bound as a parameter.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement},
    ConnectionTrait, DbErr, Value,
};
use uuid::Uuid;

use super::{
    fields::{Cell, Field, Kind},
    site::{Child, ModelAdmin},
};

/// Rows per changelist page, as Django's `list_per_page`.
pub const PER_PAGE: u64 = 100;

/// One object: its id and a cell per declared field (in declaration order).
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub cells: Vec<Cell>,
}

impl Row {
    #[must_use]
    pub fn get(&self, m: &ModelAdmin, name: &str) -> Cell {
        m.fields
            .iter()
            .position(|f| f.name == name)
            .and_then(|i| self.cells.get(i).cloned())
            .unwrap_or(Cell::Null)
    }

    /// The object's name (Django's `__str__`).
    #[must_use]
    pub fn title(&self, m: &ModelAdmin) -> String {
        let cell = self.get(m, m.title);
        match cell {
            Cell::Text(s) if !s.is_empty() => s,
            _ => self.id.to_string(),
        }
    }
}

/// What a changelist shows.
#[derive(Debug, Default)]
pub struct ListQuery<'a> {
    /// Words that must each match one of the search columns.
    pub search: Vec<String>,
    pub filters: Vec<(&'a Field, Cell)>,
    pub order: Option<(&'a Field, bool)>,
    /// A date column from (inclusive) until (exclusive): the date drill-down.
    pub within: Option<(&'a Field, DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    /// 1-based.
    pub page: u64,
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn select_all(m: &ModelAdmin) -> SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new(m.table));
    for f in m.fields {
        q.column(Alias::new(f.name));
    }
    q
}

fn read_row(m: &ModelAdmin, row: &sea_orm::QueryResult) -> Row {
    let cells: Vec<Cell> = m
        .fields
        .iter()
        .map(|f| Cell::read(row, f.name, f.kind))
        .collect();
    let id = m
        .fields
        .iter()
        .position(|f| f.name == "id")
        .and_then(|i| cells[i].as_uuid())
        .unwrap_or_default();
    Row { id, cells }
}

/// `%`, `_` and `\` taken literally in a `LIKE` pattern.
fn like_escaped(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The text a changelist search looks in: the model's search columns, lower
/// case, joined by spaces (a word, having none, matches inside one column).
/// One expression, so PostgreSQL can answer `LIKE '%word%'` from a trigram
/// index on it (migration `m20261203_000025_admin_search`, which writes the
/// same expression).
#[must_use]
pub fn search_expression(m: &ModelAdmin) -> String {
    let joined = m
        .search
        .iter()
        .map(|c| format!("COALESCE({c}, '')"))
        .collect::<Vec<_>>()
        .join(" || ' ' || ");
    format!("lower({joined})")
}

fn apply_where(m: &ModelAdmin, q: &mut SelectStatement, list: &ListQuery<'_>) {
    if !m.search.is_empty() {
        let haystack = Expr::cust(search_expression(m));
        for word in &list.search {
            let pattern = like_escaped(&word.to_lowercase());
            q.and_where(haystack.clone().like(LikeExpr::new(pattern).escape('\\')));
        }
    }
    if let Some((field, from, until)) = &list.within {
        q.and_where(col(field.name).gte(*from))
            .and_where(col(field.name).lt(*until));
    }
    for (field, cell) in &list.filters {
        if *cell == Cell::Null {
            q.and_where(col(field.name).is_null());
        } else {
            q.and_where(col(field.name).eq(cell.value(field.kind)));
        }
    }
}

/// One changelist page and the number of matching rows.
///
/// # Errors
/// Database errors.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    query: &ListQuery<'_>,
) -> Result<(Vec<Row>, u64), DbErr> {
    let unfiltered = query.search.is_empty() && query.filters.is_empty() && query.within.is_none();
    let total = match (unfiltered && m.large).then_some(()) {
        Some(()) => match estimated_rows(db, m).await? {
            Some(n) => n,
            None => count(db, m, query).await?,
        },
        None => count(db, m, query).await?,
    };
    let mut q = select_all(m);
    apply_where(m, &mut q, query);
    let (order_field, desc) = query.order.map_or_else(
        || {
            let name = m.ordering.trim_start_matches('-');
            (name, m.ordering.starts_with('-'))
        },
        |(f, d)| (f.name, d),
    );
    // The id breaks ties in the same direction, so one index on
    // (column, id) serves the page either way.
    let direction = if desc { Order::Desc } else { Order::Asc };
    q.order_by(Alias::new(order_field), direction.clone())
        .order_by(Alias::new("id"), direction)
        .limit(PER_PAGE)
        .offset(query.page.saturating_sub(1) * PER_PAGE);
    let rows = db.query_all(&q).await?;
    Ok((rows.iter().map(|r| read_row(m, r)).collect(), total))
}

/// Every matching row in the changelist's order, up to `cap` (an export of
/// the whole listing).
///
/// # Errors
/// Database errors.
pub async fn list_all<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    query: &ListQuery<'_>,
    cap: u64,
) -> Result<Vec<Row>, DbErr> {
    let mut q = select_all(m);
    apply_where(m, &mut q, query);
    let (order_field, desc) = query.order.map_or_else(
        || {
            let name = m.ordering.trim_start_matches('-');
            (name, m.ordering.starts_with('-'))
        },
        |(f, d)| (f.name, d),
    );
    let direction = if desc { Order::Desc } else { Order::Asc };
    q.order_by(Alias::new(order_field), direction.clone())
        .order_by(Alias::new("id"), direction)
        .limit(cap);
    let rows = db.query_all(&q).await?;
    Ok(rows.iter().map(|r| read_row(m, r)).collect())
}

/// Rows at or above which a large model's unfiltered count is PostgreSQL's
/// estimate (`pg_class.reltuples`, kept by autovacuum) instead of a
/// `COUNT(*)` over the whole table.
pub const ESTIMATE_FROM: u64 = 20_000;

/// PostgreSQL's estimate of a large table's rows, when it is that large;
/// `None` on SQLite, for small tables, or before the first analyze.
///
/// # Errors
/// Database errors.
pub async fn estimated_rows<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
) -> Result<Option<u64>, DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT CAST(reltuples AS BIGINT) AS n FROM pg_class WHERE oid = to_regclass($1)",
            [m.table.into()],
        ))
        .await?;
    let n = row
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .and_then(|n| u64::try_from(n).ok());
    Ok(n.filter(|n| *n >= ESTIMATE_FROM))
}

/// How many rows match.
///
/// # Errors
/// Database errors.
pub async fn count<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    query: &ListQuery<'_>,
) -> Result<u64, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new(m.table))
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"));
    apply_where(m, &mut q, query);
    let n = db
        .query_one(&q)
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The distinct non-empty values of a text column, sorted (a filter's choices).
///
/// # Errors
/// Database errors.
pub async fn distinct<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    column: &str,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let mut q = Query::select();
    q.distinct()
        .from(Alias::new(m.table))
        .column(Alias::new(column))
        .and_where(col(column).ne(""))
        .order_by(Alias::new(column), Order::Asc)
        .limit(limit);
    Ok(db
        .query_all(&q)
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String>("", column).ok())
        .collect())
}

/// One object by id.
///
/// # Errors
/// Database errors.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    id: Uuid,
) -> Result<Option<Row>, DbErr> {
    let mut q = select_all(m);
    q.and_where(col("id").eq(id));
    let row = db.query_one(&q).await?;
    Ok(row.map(|r| read_row(m, &r)))
}

/// Objects by id (the rows a bulk action names), in the model's order.
///
/// # Errors
/// Database errors.
pub async fn get_many<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    ids: &[Uuid],
) -> Result<Vec<Row>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = select_all(m);
    q.and_where(col("id").is_in(ids.iter().copied()));
    let rows = db.query_all(&q).await?;
    Ok(rows.iter().map(|r| read_row(m, r)).collect())
}

/// The rows of `fk`'s children of `parent` (an inline's rows), in order.
///
/// # Errors
/// Database errors.
pub async fn children<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    fk: &str,
    parent: Uuid,
) -> Result<Vec<Row>, DbErr> {
    let mut q = select_all(m);
    let order = m.ordering.trim_start_matches('-');
    q.and_where(col(fk).eq(parent))
        .order_by(Alias::new(order), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc);
    let rows = db.query_all(&q).await?;
    Ok(rows.iter().map(|r| read_row(m, r)).collect())
}

/// `(id, name)` of rows selected as `id, {title}` (the id when the model's
/// name column is not text, as organizer members').
fn id_titles<'a>(
    m: &'a ModelAdmin,
    rows: &'a [sea_orm::QueryResult],
) -> impl Iterator<Item = (Uuid, String)> + 'a {
    rows.iter().filter_map(move |r| {
        let id = r.try_get::<Uuid>("", "id").ok()?;
        let title = r
            .try_get::<String>("", m.title)
            .unwrap_or_else(|_| id.to_string());
        Some((id, title))
    })
}

/// The names of objects by id (to show foreign keys).
///
/// # Errors
/// Database errors.
pub async fn titles<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = Query::select();
    q.from(Alias::new(m.table))
        .column(Alias::new("id"))
        .column(Alias::new(m.title))
        .and_where(col("id").is_in(ids.iter().copied()));
    Ok(id_titles(m, &db.query_all(&q).await?).collect())
}

/// The choices of a foreign-key select: up to `limit` objects by name.
///
/// # Errors
/// Database errors.
pub async fn options<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    limit: u64,
) -> Result<Vec<(Uuid, String)>, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new(m.table))
        .column(Alias::new("id"))
        .column(Alias::new(m.title))
        .order_by(Alias::new(m.title), Order::Asc)
        .limit(limit);
    Ok(id_titles(m, &db.query_all(&q).await?).collect())
}

/// The earliest and latest value of a date column among the matching rows.
///
/// # Errors
/// Database errors.
pub async fn date_span<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    query: &ListQuery<'_>,
    field: &str,
) -> Result<Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new(m.table))
        .expr_as(Func::min(col(field)), Alias::new("lo"))
        .expr_as(Func::max(col(field)), Alias::new("hi"));
    apply_where(m, &mut q, query);
    let Some(row) = db.query_one(&q).await? else {
        return Ok(None);
    };
    let lo: Option<DateTime<FixedOffset>> = row.try_get("", "lo").ok().flatten();
    let hi: Option<DateTime<FixedOffset>> = row.try_get("", "hi").ok().flatten();
    Ok(lo.zip(hi))
}

/// How many matching rows fall in each `[from, until)` of a date column, in
/// one statement.
///
/// # Errors
/// Database errors.
pub async fn count_within<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    query: &ListQuery<'_>,
    field: &str,
    ranges: &[(DateTime<FixedOffset>, DateTime<FixedOffset>)],
) -> Result<Vec<i64>, DbErr> {
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.from(Alias::new(m.table));
    for (i, (from, until)) in ranges.iter().enumerate() {
        let inside = Expr::case(
            col(field).gte(*from).and(col(field).lt(*until)),
            Expr::val(1),
        )
        .finally(Expr::val(0));
        q.expr_as(Func::sum(inside), Alias::new(format!("b{i}")));
    }
    apply_where(m, &mut q, query);
    let row = db.query_one(&q).await?;
    Ok((0..ranges.len())
        .map(|i| {
            row.as_ref()
                .and_then(|r| r.try_get::<Option<i64>>("", &format!("b{i}")).ok())
                .flatten()
                .unwrap_or(0)
        })
        .collect())
}

/// Objects whose search fields match every word of `term`, by name: a page
/// of `limit` from `offset`, and whether more follow (the autocomplete).
///
/// # Errors
/// Database errors.
pub async fn search_options<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    term: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<(Uuid, String)>, bool), DbErr> {
    let list = ListQuery {
        search: term.split_whitespace().map(str::to_string).collect(),
        ..ListQuery::default()
    };
    let mut q = Query::select();
    q.from(Alias::new(m.table))
        .column(Alias::new("id"))
        .column(Alias::new(m.title));
    apply_where(m, &mut q, &list);
    q.order_by(Alias::new(m.title), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc)
        .offset(offset)
        .limit(limit + 1);
    let mut found: Vec<(Uuid, String)> = id_titles(m, &db.query_all(&q).await?).collect();
    let more = found.len() as u64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((found, more))
}

/// Whether another object already has this value (Django's `validate_unique`;
/// emails compare case-insensitively, as the users index does).
///
/// # Errors
/// Database errors.
pub async fn taken<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    field: &Field,
    cell: &Cell,
    except: Option<Uuid>,
) -> Result<bool, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new(m.table)).column(Alias::new("id"));
    if field.kind == Kind::Email {
        q.and_where(Expr::expr(Func::lower(col(field.name))).eq(cell.as_str().to_lowercase()));
    } else {
        q.and_where(col(field.name).eq(cell.value(field.kind)));
    }
    if let Some(id) = except {
        q.and_where(col("id").ne(id));
    }
    q.limit(1);
    Ok(db.query_one(&q).await?.is_some())
}

/// Whether an object with this id exists.
///
/// # Errors
/// Database errors.
pub async fn exists<C: ConnectionTrait>(db: &C, m: &ModelAdmin, id: Uuid) -> Result<bool, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new(m.table))
        .column(Alias::new("id"))
        .and_where(col("id").eq(id))
        .limit(1);
    Ok(db.query_one(&q).await?.is_some())
}

/// Inserts an object; `extra` are columns outside the form (a password hash).
///
/// # Errors
/// Database errors (constraint violations included).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    values: &[(&Field, Cell)],
    extra: &[(&str, Value)],
) -> Result<Uuid, DbErr> {
    let id = Uuid::new_v4();
    let now = Value::ChronoDateTimeWithTimeZone(Some(Utc::now().fixed_offset()));
    let mut columns = vec![
        Alias::new("id"),
        Alias::new("created_at"),
        Alias::new("updated_at"),
    ];
    let mut row: Vec<Expr> = vec![
        Expr::val(id),
        Expr::val(now.clone()),
        Expr::val(now.clone()),
    ];
    if m.field("date_joined").is_some() {
        columns.push(Alias::new("date_joined"));
        row.push(Expr::val(now));
    }
    for (f, cell) in values {
        columns.push(Alias::new(f.name));
        row.push(Expr::val(cell.value(f.kind)));
    }
    for (name, value) in extra {
        columns.push(Alias::new(*name));
        row.push(Expr::val(value.clone()));
    }
    let mut q = Query::insert();
    q.into_table(Alias::new(m.table))
        .columns(columns)
        .values(row)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    db.execute(&q).await?;
    Ok(id)
}

/// Updates the given columns of an object (and its `updated_at`); other
/// columns — such as a tier's `sold`, moved by checkout meanwhile — are left
/// as they are.
///
/// # Errors
/// Database errors (constraint violations included).
pub async fn update<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    id: Uuid,
    values: &[(&Field, Cell)],
) -> Result<(), DbErr> {
    let mut q = Query::update();
    q.table(Alias::new(m.table)).value(
        Alias::new("updated_at"),
        Value::ChronoDateTimeWithTimeZone(Some(Utc::now().fixed_offset())),
    );
    for (f, cell) in values {
        q.value(Alias::new(f.name), cell.value(f.kind));
    }
    q.and_where(col("id").eq(id));
    db.execute(&q).await?;
    Ok(())
}

/// Deletes objects by id.
///
/// # Errors
/// Database errors (a protected reference included).
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    ids: &[Uuid],
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut q = Query::delete();
    q.from_table(Alias::new(m.table))
        .and_where(col("id").is_in(ids.iter().copied()));
    Ok(db.execute(&q).await?.rows_affected())
}

/// What points at `ids` from `child`: how many rows and the names of the first.
///
/// # Errors
/// Database errors.
pub async fn dependents<C: ConnectionTrait>(
    db: &C,
    child: &Child,
    ids: &[Uuid],
) -> Result<(u64, Vec<String>), DbErr> {
    if ids.is_empty() {
        return Ok((0, Vec::new()));
    }
    let mut count = Query::select();
    count
        .from(Alias::new(child.table))
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
        .and_where(col(child.fk).is_in(ids.iter().copied()));
    let n = db
        .query_one(&count)
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    let mut q = Query::select();
    q.from(Alias::new(child.table))
        .column(Alias::new(child.title))
        .and_where(col(child.fk).is_in(ids.iter().copied()))
        .limit(10);
    let names = db
        .query_all(&q)
        .await?
        .iter()
        .map(|r| {
            r.try_get::<String>("", child.title)
                .or_else(|_| r.try_get::<Uuid>("", child.title).map(|u| u.to_string()))
                .unwrap_or_default()
        })
        .collect();
    Ok((u64::try_from(n).unwrap_or(0), names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_escaped("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
