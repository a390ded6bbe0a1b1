//! The list of applies with their reports (`/console/journaux/mises-en-oeuvre`):
//! every apply session the engine recorded in the store (`preau apply`,
//! imports, password changes from the console…), newest first, a page at
//! a time, each with its steps.

use super::errors::WebError;
use super::pages::{self, AppliesPage, ApplyRow, Page, StepRow};
use super::{AppState, Signed};
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Applies per page.
const PAGE: usize = 20;
/// Steps shown per apply (a first import has thousands).
const STEPS_SHOWN: usize = 200;

/// A step's result in the current language.
fn result_fr(r: &str) -> &'static str {
    let fr = super::i18n::french();
    match r {
        "done" if fr => "fait",
        "done" => "done",
        "skipped" if fr => "sauté (hors système réel)",
        "skipped" => "skipped (not a real system)",
        "noted" if fr => "noté",
        "noted" => "noted",
        _ if fr => "échec",
        _ => "failed",
    }
}

/// The steps of a stored report (pure): (steps shown, how many in all).
pub fn steps(report: &str) -> (Vec<StepRow>, usize) {
    let v: serde_json::Value = serde_json::from_str(report).unwrap_or_default();
    let all = v["steps"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let rows = all
        .iter()
        .take(STEPS_SHOWN)
        .map(|s| StepRow {
            module: s["module"].as_str().unwrap_or("").to_string(),
            change: s["change"].as_str().unwrap_or("").to_string(),
            result: result_fr(s["result"].as_str().unwrap_or("")),
            failed: !matches!(s["result"].as_str(), Some("done" | "skipped" | "noted")),
            error: s["error"].as_str().map(str::to_string),
        })
        .collect();
    (rows, all.len())
}

/// `GET /console/journaux/mises-en-oeuvre?page=`.
pub async fn list(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page_no: usize = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p < 10_000)
        .unwrap_or(0);
    let run = move || -> Result<Response, WebError> {
        let store = web.store()?;
        let mut found = store.applies_with_reports(PAGE + 1, page_no * PAGE)?;
        let more = found.len() > PAGE;
        found.truncate(PAGE);
        let applies = found
            .into_iter()
            .map(|(a, report)| {
                let (steps, total) = steps(&report);
                ApplyRow {
                    id: a.id,
                    at: a.started_at,
                    modules: a.modules,
                    changes: a.changes,
                    duration_ms: a.duration_ms,
                    ok: a.ok,
                    error: a.error,
                    steps,
                    total_steps: total,
                }
            })
            .collect();
        let config = web.config();
        let chrome = Page::signed(
            super::i18n::t(super::i18n::current(), "applies.title"),
            &config.establishment.name,
            &signed,
            "/console/journaux",
        );
        let link = |p: usize| format!("/console/journaux/mises-en-oeuvre?page={p}");
        Ok(pages::render(&AppliesPage {
            page: &chrome,
            applies,
            prev: (page_no > 0).then(|| link(page_no - 1)),
            next: more.then(|| link(page_no + 1)),
        }))
    };
    super::i18n::spawn_blocking(run)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))
        .and_then(|r| r)
        .unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_of_a_report() {
        let (rows, total) = steps(
            r#"{"steps":[{"module":"system","change":"+ create /etc/x","result":"done"},
                         {"module":"firewall","change":"load ruleset","result":"failed","error":"nft: syntax"}],"ok":false}"#,
        );
        assert_eq!(total, 2);
        assert_eq!(rows[0].result, "fait");
        assert!(rows[1].failed);
        assert_eq!(rows[1].error.as_deref(), Some("nft: syntax"));
        assert_eq!(steps("{}").1, 0);
        assert_eq!(steps("not json").1, 0);
    }
}
