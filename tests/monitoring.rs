//! The academy's monitoring examples (`monitoring/`): every metric the
//! Prometheus alerts and the Grafana dashboard name exists in what a real
//! `preau serve` (with the proxy) serves on `/metrics`; the files parse.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{TempRoot, show};

fn monitoring() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("monitoring")
}

/// Names of Préau and process metrics in a text (PromQL, YAML, JSON).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let ident = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let starts = (bytes[i..].starts_with(b"preau_") || bytes[i..].starts_with(b"process_"))
            && (i == 0 || !ident(bytes[i - 1]));
        if starts {
            let end = (i..bytes.len())
                .find(|&j| !ident(bytes[j]))
                .unwrap_or(bytes.len());
            names.insert(text[i..end].to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

/// Every PromQL expression of the dashboard.
fn dashboard_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if (k == "expr" || k == "query") && v.is_string() {
                    out.push(v.as_str().unwrap().to_string());
                } else {
                    dashboard_exprs(v, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

/// `/metrics` of a real daemon with the proxy enabled.
fn served_metrics() -> String {
    let root = TempRoot::new();
    let out = root.run(&["init"]);
    assert!(out.status.success(), "{}", show(&out));
    let https = support::free_port();
    let proxy = support::free_port();
    let cfg = root
        .read("/etc/preau/preau.toml")
        .replace("#enabled = []", "enabled = [\"proxy\"]")
        .replacen(
            "#listen = [\"[::]:443\"]",
            &format!("listen = [\"127.0.0.1:{https}\"]"),
            1,
        )
        .replace(
            "#listen = [\"0.0.0.0:3128\"]",
            &format!("listen = [\"127.0.0.1:{proxy}\"]"),
        );
    root.write("/etc/preau/preau.toml", &cfg);
    let lists = root.path().join("ut1/adult");
    std::fs::create_dir_all(&lists).unwrap();
    std::fs::write(lists.join("domains"), "bad.test\n").unwrap();
    let out = root.run(&["blacklists", "update", root.path().join("ut1").to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let mut serve = root.preau(&["serve"]).stderr(Stdio::null()).spawn().unwrap();
    let url = format!("https://127.0.0.1:{https}/metrics");
    let mut body = String::new();
    let up = support::wait_for(Duration::from_secs(20), || {
        let out = Command::new("curl")
            .args(["-sk", "--max-time", "5", &url])
            .output()
            .unwrap();
        body = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success() && body.contains("preau_proxy_requests_total")
    });
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(up, "no /metrics with the proxy: {body}");
    body
}

#[test]
fn every_metric_the_dashboard_and_alerts_name_is_served() {
    let body = served_metrics();
    let served: BTreeSet<String> = body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_string())
        .collect();

    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(monitoring().join("grafana-preau.json")).unwrap())
            .expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut named = metric_names(&exprs.join("\n"));
    assert!(named.len() >= 8, "{named:?}");
    let alerts = std::fs::read_to_string(monitoring().join("preau-alerts.yml")).unwrap();
    let in_alerts = metric_names(&alerts);
    assert!(in_alerts.contains("preau_module_healthy"), "{in_alerts:?}");
    named.extend(in_alerts);
    let missing: Vec<&String> = named.iter().filter(|n| !served.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "named but not served: {missing:?}\nserved: {served:?}"
    );
    // The dashboard shows every Préau metric there is.
    let unshown: Vec<&String> = served
        .iter()
        .filter(|n| n.starts_with("preau_") && !metric_names(&exprs.join("\n")).contains(*n))
        .collect();
    assert!(unshown.is_empty(), "served but on no panel: {unshown:?}");
}

#[test]
fn the_prometheus_files_are_yaml_and_name_the_rules_and_targets() {
    let script = "import sys, yaml\n\
        p = yaml.safe_load(open(sys.argv[1] + '/prometheus.yml'))\n\
        job = p['scrape_configs'][0]\n\
        assert job['job_name'] == 'preau' and job['scheme'] == 'https' and job['metrics_path'] == '/metrics', job\n\
        assert p['rule_files'] == ['preau-alerts.yml']\n\
        t = yaml.safe_load(open(sys.argv[1] + '/preau-targets.yml'))\n\
        assert all('uai' in g['labels'] and g['targets'] for g in t), t\n\
        r = yaml.safe_load(open(sys.argv[1] + '/preau-alerts.yml'))\n\
        assert all('expr' in rule and 'alert' in rule for g in r['groups'] for rule in g['rules'])\n";
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(monitoring())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
}
