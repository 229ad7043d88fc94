//! The preset's redactor from its settings (`PRODLOG_REDACT_EMAILS`,
//! `PRODLOG_REDACT_RULES`).

use std::io::Write as _;

use prodlog_redact::Redactor;

use crate::error::{InitError, InitErrorKind};
use crate::settings::Problem;

/// The built-in rules, with e-mail addresses when asked and a rules file's rules when
/// given. A file that cannot be loaded is a problem; the built-in rules stand in.
pub(crate) fn default_redactor(
    emails: bool,
    rules: Option<&std::path::Path>,
    problems: &mut Vec<Problem>,
) -> Redactor {
    let builtin = || {
        // The built-in rules always compile; the default stands in regardless.
        Redactor::builder()
            .emails(emails)
            .build()
            .unwrap_or_else(|_| Redactor::default())
    };
    let rules = rules.filter(|_| {
        let available = cfg!(feature = "rules-file");
        if !available {
            crate::settings::without_feature(
                "a redaction rules file",
                "PRODLOG_REDACT_RULES",
                "rules-file",
                "redacting with the built-in rules only",
                problems,
            );
        }
        available
    });
    let Some(path) = rules else {
        return if emails {
            builtin()
        } else {
            Redactor::default()
        };
    };
    match Redactor::builder().emails(emails).rules_file(path).build() {
        Ok(r) => {
            let skipped = r.skipped_rules();
            if !skipped.is_empty() {
                let list: Vec<String> = skipped
                    .iter()
                    .map(|(id, why)| format!("{id}: {why}"))
                    .collect();
                let _ = writeln!(
                    std::io::stderr(),
                    "prodlog: redaction rules from {}: {} in use, {} skipped ({})",
                    path.display(),
                    r.file_rule_count(),
                    skipped.len(),
                    list.join("; ")
                );
            }
            r
        }
        Err(e) => {
            problems.push(Problem {
                error: InitError::new(
                    InitErrorKind::RedactionRules,
                    format!("cannot load redaction rules from {}: {e}", path.display()),
                )
                .with_path(path.to_owned()),
                fallback: "redacting with the built-in rules only".to_owned(),
            });
            builtin()
        }
    }
}
