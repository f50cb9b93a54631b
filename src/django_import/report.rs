//! What an import did, table by table: rows read, written, already here from
//! an earlier run, and every finding (a row skipped, fixed or noted) with its
//! rule and the source value, so nothing is dropped without a line.

use std::{collections::BTreeMap, fmt::Write as _};

/// What happened to one source row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Not imported (nor anything that depends on it).
    Skip,
    /// Imported with an adjustment; the original value is in the detail.
    Fix,
    /// Imported as is; the source has something without a target here.
    Note,
}

impl Action {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Fix => "fix",
            Self::Note => "note",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub table: &'static str,
    pub source_id: String,
    pub action: Action,
    pub rule: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct TableCount {
    pub read: u64,
    pub written: u64,
    /// Rows an earlier run imported (same id): left as they are.
    pub present: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    pub fixed: BTreeMap<&'static str, u64>,
    pub noted: BTreeMap<&'static str, u64>,
}

impl TableCount {
    #[must_use]
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// The tables in the order they are imported (and reported).
pub const ORDER: [&str; 14] = [
    "users",
    "organizers",
    "organizer_members",
    "event_categories",
    "locations",
    "events",
    "event_images",
    "ticket_categories",
    "ticket_tiers",
    "coupons",
    "orders",
    "order_items",
    "tickets",
    "payments",
];

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    pub tables: BTreeMap<&'static str, TableCount>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn table(&mut self, table: &'static str) -> &mut TableCount {
        self.tables.entry(table).or_default()
    }

    pub fn read(&mut self, table: &'static str, n: usize) {
        self.table(table).read += n as u64;
    }

    fn find(
        &mut self,
        table: &'static str,
        id: impl ToString,
        action: Action,
        rule: &'static str,
        detail: impl Into<String>,
    ) {
        let count = self.table(table);
        let map = match action {
            Action::Skip => &mut count.skipped,
            Action::Fix => &mut count.fixed,
            Action::Note => &mut count.noted,
        };
        *map.entry(rule).or_default() += 1;
        self.findings.push(Finding {
            table,
            source_id: id.to_string(),
            action,
            rule,
            detail: detail.into(),
        });
    }

    pub fn skip(
        &mut self,
        table: &'static str,
        id: impl ToString,
        rule: &'static str,
        detail: impl Into<String>,
    ) {
        self.find(table, id, Action::Skip, rule, detail);
    }

    pub fn fix(
        &mut self,
        table: &'static str,
        id: impl ToString,
        rule: &'static str,
        detail: impl Into<String>,
    ) {
        self.find(table, id, Action::Fix, rule, detail);
    }

    pub fn note(
        &mut self,
        table: &'static str,
        id: impl ToString,
        rule: &'static str,
        detail: impl Into<String>,
    ) {
        self.find(table, id, Action::Note, rule, detail);
    }

    /// A row whose parent (`what` `parent`) was not imported.
    pub fn parent_skipped(
        &mut self,
        table: &'static str,
        id: impl ToString,
        what: &str,
        parent: impl std::fmt::Display,
    ) {
        self.skip(
            table,
            id,
            "parent_skipped",
            format!("{what} {parent} was not imported"),
        );
    }

    /// A row an earlier run imported and the app has deleted since: it stays
    /// deleted.
    pub fn deleted_here(&mut self, table: &'static str, id: impl ToString) {
        self.skip(
            table,
            id,
            "deleted_here",
            "imported earlier and deleted here since",
        );
    }

    /// The findings of one table and rule (tests and the admin read them).
    #[must_use]
    pub fn with_rule(&self, table: &str, rule: &str) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.table == table && f.rule == rule)
            .collect()
    }

    /// Rows written over every table.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.tables.values().map(|t| t.written).sum()
    }

    /// A finding as one tab-separated line: table, source id, action, rule,
    /// detail.
    #[must_use]
    pub fn finding_line(f: &Finding) -> String {
        let detail = f.detail.replace(['\t', '\n', '\r'], " ");
        format!(
            "{}\t{}\t{}\t{}\t{}",
            f.table,
            f.source_id,
            f.action.as_str(),
            f.rule,
            detail
        )
    }

    /// The closing table: a heading, then one line per table with rows read,
    /// written, already imported and skipped (by reason), fixes and notes.
    #[must_use]
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "import_django{}: table, read, written, already imported, skipped (by reason)",
            if self.dry_run {
                " --dry-run (nothing was written)"
            } else {
                ""
            }
        )];
        let reasons = |map: &BTreeMap<&'static str, u64>| {
            map.iter()
                .map(|(rule, n)| format!("{rule} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for table in ORDER {
            let Some(count) = self.tables.get(table) else {
                continue;
            };
            let mut line = format!(
                "{table:<18} read {:>7}  written {:>7}  already {:>7}  skipped {:>6}",
                count.read,
                count.written,
                count.present,
                count.skipped_total()
            );
            if !count.skipped.is_empty() {
                let _ = write!(line, " ({})", reasons(&count.skipped));
            }
            if !count.fixed.is_empty() {
                let _ = write!(line, "; fixed: {}", reasons(&count.fixed));
            }
            if !count.noted.is_empty() {
                let _ = write!(line, "; noted: {}", reasons(&count.noted));
            }
            lines.push(line);
        }
        lines
    }

    /// The whole report as text: every finding, a blank line, the closing table.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(out, "{}", Self::finding_line(f));
        }
        out.push('\n');
        for line in self.summary_lines() {
            let _ = writeln!(out, "{line}");
        }
        out
    }
}
