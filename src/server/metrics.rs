//! The Prometheus text exposition for `/metrics`: module health, applies
//! (from the store), requests, and the usual process figures.

use super::Shared;
use crate::modules::{self, State};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// A label value as the text exposition format wants it: backslash,
/// double quote and line feed escaped (a mount point may hold any of them).
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

pub fn render(shared: &Shared) -> String {
    let config = shared.config();
    let ctx = shared.context(&config);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let health: Vec<(String, f64)> = modules::selected(&config, &[])
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let h = m.status(&ctx);
            (
                format!("{{module=\"{}\"}}", h.module),
                f64::from(u8::from(h.state == State::Ok)),
            )
        })
        .collect();
    metric(
        "preau_module_healthy",
        "gauge",
        "1 when the module reports ok.",
        &health,
    );
    if let Ok(store) = crate::store::Store::open_existing(&ctx.db)
        && let Ok(totals) = store.apply_totals()
    {
        let (ok_n, ok_ms, fail_n, fail_ms) = (totals.ok.0, totals.ok.1, totals.failed.0, totals.failed.1);
        {
            metric(
                "preau_applies_total",
                "counter",
                "Applies recorded in the store, by result.",
                &[
                    ("{result=\"ok\"}".into(), ok_n as f64),
                    ("{result=\"failed\"}".into(), fail_n as f64),
                ],
            );
            metric(
                "preau_apply_duration_seconds_sum",
                "counter",
                "Total time spent applying, by result.",
                &[
                    ("{result=\"ok\"}".into(), ok_ms as f64 / 1000.0),
                    ("{result=\"failed\"}".into(), fail_ms as f64 / 1000.0),
                ],
            );
        }
    }
    metric(
        "preau_http_requests_total",
        "counter",
        "HTTP requests served since start.",
        &[(String::new(), shared.requests.load(Ordering::Relaxed) as f64)],
    );
    metric(
        "preau_tls_connections_total",
        "counter",
        "TLS connections established since start.",
        &[(String::new(), shared.connections.load(Ordering::Relaxed) as f64)],
    );
    metric(
        "preau_reloads_total",
        "counter",
        "Successful reloads (SIGHUP or a settings apply from the console) since start.",
        &[(String::new(), shared.reloads.load(Ordering::Relaxed) as f64)],
    );
    metric(
        "preau_reloads_refused_total",
        "counter",
        "Reloads refused since start (broken configuration or certificate: the running one kept).",
        &[(
            String::new(),
            shared.reloads_refused.load(Ordering::Relaxed) as f64,
        )],
    );
    if let Some(proxy) = shared.proxy.get() {
        let c = proxy.counters();
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
        metric(
            "preau_proxy_requests_total",
            "counter",
            "Proxied requests and tunnels since start, by decision.",
            &[
                ("{decision=\"allow\"}".into(), n(&c.allowed)),
                ("{decision=\"deny\"}".into(), n(&c.denied)),
                ("{decision=\"other\"}".into(), n(&c.other)),
            ],
        );
        metric(
            "preau_proxy_bytes_total",
            "counter",
            "Bytes through the proxy since start, by direction.",
            &[
                ("{direction=\"up\"}".into(), n(&c.bytes_up)),
                ("{direction=\"down\"}".into(), n(&c.bytes_down)),
            ],
        );
        metric(
            "preau_proxy_open_connections",
            "gauge",
            "Client connections open on the proxy.",
            &[(String::new(), proxy.open_connections() as f64)],
        );
        metric(
            "preau_proxy_list_reloads_total",
            "counter",
            "Category list sets swapped in since start.",
            &[(String::new(), n(&proxy.list_reloads))],
        );
        metric(
            "preau_proxy_auth_errors_total",
            "counter",
            "Proxy logins that could not be checked because the directory could not be read (answered 503).",
            &[(String::new(), n(&proxy.auth_errors))],
        );
        metric(
            "preau_proxy_exam_read_errors_total",
            "counter",
            "Reads of the exams that failed (the last known exams stayed).",
            &[(String::new(), n(&proxy.exam_errors))],
        );
    }
    // Each filesystem once; the label values are paths.
    let label = label_value;
    let disks = crate::status::disk_figures();
    let by_fs = |f: &dyn Fn(&crate::status::DiskFigures) -> u64| -> Vec<(String, f64)> {
        disks
            .iter()
            .map(|d| {
                (
                    format!(
                        "{{mountpoint=\"{}\",fstype=\"{}\"}}",
                        label(&d.mount_point),
                        label(&d.filesystem)
                    ),
                    f(d) as f64,
                )
            })
            .collect()
    };
    metric(
        "preau_filesystem_size_bytes",
        "gauge",
        "Size of each mounted filesystem.",
        &by_fs(&|d| d.total_bytes),
    );
    metric(
        "preau_filesystem_avail_bytes",
        "gauge",
        "Space left on each mounted filesystem for unprivileged users.",
        &by_fs(&|d| d.available_bytes),
    );
    let p = process();
    let start = shared
        .started_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    metric(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since the epoch.",
        &[(String::new(), start)],
    );
    metric(
        "process_cpu_seconds_total",
        "counter",
        "User and system CPU time.",
        &[(String::new(), p.cpu_seconds)],
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory.",
        &[(String::new(), p.rss_bytes)],
    );
    metric(
        "process_open_fds",
        "gauge",
        "Open file descriptors.",
        &[(String::new(), p.open_fds)],
    );
    out
}

struct Process {
    cpu_seconds: f64,
    rss_bytes: f64,
    open_fds: f64,
}

/// Reads this process's figures from /proc.
fn process() -> Process {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as f64;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 here.
    let cpu_seconds = (field(11) + field(12)) / ticks;
    let rss_pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .unwrap_or(0.0);
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as f64)
        .unwrap_or(0.0);
    Process {
        cpu_seconds,
        rss_bytes: rss_pages * page,
        open_fds,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::label_value("/srv/preau"), "/srv/preau");
        assert_eq!(super::label_value("/mnt/a\"b\\c\nd"), "/mnt/a\\\"b\\\\c\\nd");
    }
}
