//! Deleting objects: what goes with them and what forbids it (as Django's
//! confirmation lists them), then the delete and its history in one
//! transaction.

use loco_rs::prelude::AppContext;
use sea_orm::{DbErr, TransactionTrait};
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::{
    audit::{self, Change},
    error::AdminResult,
    form,
    hooks::Editor,
    site::{ModelAdmin, OnDelete},
    store::{self, Row},
};

/// What deleting these objects takes with it, and what forbids it, as the
/// confirmation page lists them.
///
/// # Errors
/// Database errors.
pub async fn consequences(
    ctx: &AppContext,
    m: &ModelAdmin,
    ids: &[Uuid],
) -> Result<(Vec<Json>, Vec<Json>), DbErr> {
    let mut goes = Vec::new();
    let mut blocks = Vec::new();
    for child in m.children {
        let (n, names) = store::dependents(&ctx.db, child, ids).await?;
        if n == 0 {
            continue;
        }
        let entry = json!({ "label": child.label, "count": n, "names": names, "more": n > names.len() as u64 });
        match child.on_delete {
            OnDelete::Protect => blocks.push(entry),
            OnDelete::Cascade | OnDelete::SetNull => goes.push(entry),
        }
    }
    Ok((goes, blocks))
}

/// Deletes and logs; `Err` with the reason when something protects them.
///
/// # Errors
/// Database errors other than a refusal.
pub async fn delete_rows(
    ctx: &AppContext,
    editor: Editor<'_>,
    m: &'static ModelAdmin,
    rows: &[Row],
) -> AdminResult<Result<(), String>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (_, blocks) = consequences(ctx, m, &ids).await?;
    if !blocks.is_empty() {
        return Ok(Err(
            "No se puede eliminar: hay registros protegidos que dependen de esto.".to_string(),
        ));
    }
    let txn = ctx.db.begin().await?;
    let outcome: Result<(), DbErr> = async {
        for r in rows {
            audit::record(&txn, editor.user, m, r.id, &r.title(m), Change::Deleted, "").await?;
        }
        store::delete(&txn, m, &ids).await?;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => txn.commit().await?,
        Err(err) => {
            txn.rollback().await?;
            return match form::db_problem(m, &err) {
                Some((_, msg)) => Ok(Err(msg)),
                None => Err(err.into()),
            };
        }
    }
    // Media files of deleted event images are left in storage under unique
    // keys; nothing links to them any more.
    if let Ok(cache) = crate::platform::context::cache(ctx) {
        cache.invalidate();
    }
    Ok(Ok(()))
}
