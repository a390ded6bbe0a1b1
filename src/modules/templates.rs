//! Service-file templates: built into the binary from `modules/*/templates/`,
//! overridable by the administrator in `/etc/preau/templates/<module>/`.

use crate::host::Host;
use std::path::PathBuf;

/// Templates shipped with the binary: (module, file name, text).
const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "system",
        "preau.service",
        include_str!("../../modules/system/templates/preau.service"),
    ),
    (
        "system",
        "preau-backup.service",
        include_str!("../../modules/system/templates/preau-backup.service"),
    ),
    (
        "system",
        "preau-backup.timer",
        include_str!("../../modules/system/templates/preau-backup.timer"),
    ),
    (
        "firewall",
        "preau-firewall.service",
        include_str!("../../modules/firewall/templates/preau-firewall.service"),
    ),
    (
        "shares",
        "smb.conf",
        include_str!("../../modules/shares/templates/smb.conf"),
    ),
];

/// Where an administrator's override of a template lives.
pub fn override_path(module: &str, name: &str) -> PathBuf {
    PathBuf::from(format!("/etc/preau/templates/{module}/{name}"))
}

/// Why a template could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no built-in template {module}/{name}")]
    Unknown { module: String, name: String },
    #[error(
        "template {origin} is broken: {detail}\n    help: fix or remove the override; the built-in template is used when there is none"
    )]
    Broken { origin: String, detail: String },
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
}

/// Renders a module's template with `values`, preferring the override.
pub fn render(
    host: &dyn Host,
    module: &str,
    name: &str,
    values: &serde_json::Value,
) -> Result<String, TemplateError> {
    let over = override_path(module, name);
    let (origin, text) = match host.read(&over)? {
        Some(bytes) => (
            over.display().to_string(),
            String::from_utf8(bytes).map_err(|_| TemplateError::Broken {
                origin: over.display().to_string(),
                detail: "not UTF-8 text".into(),
            })?,
        ),
        None => {
            let (_, _, text) = BUILT_IN
                .iter()
                .find(|(m, n, _)| *m == module && *n == name)
                .ok_or_else(|| TemplateError::Unknown {
                    module: module.into(),
                    name: name.into(),
                })?;
            (format!("built-in {module}/{name}"), text.to_string())
        }
    };
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("default syntax with trailing newlines is valid"),
    );
    let broken = |e: minijinja::Error| TemplateError::Broken {
        origin: origin.clone(),
        detail: e.to_string(),
    };
    env.add_template_owned("t", text).map_err(broken)?;
    env.get_template("t")
        .and_then(|t| t.render(minijinja::value::Serde(values)))
        .map_err(broken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordingHost;
    use serde_json::json;

    #[test]
    fn override_wins_and_broken_override_is_named() {
        let host = RecordingHost::new();
        host.seed("/etc/preau/templates/system/preau.service", b"X={{ binary }}\n");
        let out = render(&host, "system", "preau.service", &json!({"binary": "/b"})).unwrap();
        assert_eq!(out, "X=/b\n");
        host.seed("/etc/preau/templates/system/preau.service", b"{% if %}");
        let err = render(&host, "system", "preau.service", &json!({})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("template /etc/preau/templates/system/preau.service is broken"),
            "{err}"
        );
    }

    #[test]
    fn missing_value_is_an_error_not_an_empty_string() {
        let host = RecordingHost::new();
        host.seed("/etc/preau/templates/system/preau.service", b"{{ nope }}");
        assert!(render(&host, "system", "preau.service", &json!({})).is_err());
    }
}
