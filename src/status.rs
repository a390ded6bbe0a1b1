//! `preau status`: host figures and each module's health.

use crate::modules::{self, Context, Health};
use crate::store::{ApplyRecord, Store};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct DiskFigures {
    pub mount_point: String,
    pub filesystem: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
    pub used_percent: f64,
}

#[derive(Debug, Serialize)]
pub struct HostFigures {
    pub hostname: Option<String>,
    pub cpus: usize,
    pub cpu_usage_percent: f32,
    pub load_average: [f64; 3],
    pub memory_total_bytes: u64,
    pub memory_used_bytes: u64,
    pub swap_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub uptime_seconds: u64,
    pub disks: Vec<DiskFigures>,
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub host: HostFigures,
    pub modules: Vec<Health>,
    pub last_apply: Option<ApplyRecord>,
}

/// The mounted filesystems, each once (bind mounts show the same one many
/// times), without the pseudo filesystems of size 0. Cheap: no sampling.
pub fn disk_figures() -> Vec<DiskFigures> {
    use sysinfo::Disks;
    let disks = Disks::new_with_refreshed_list().ok();
    let mut seen = std::collections::HashSet::new();
    disks
        .iter()
        .flat_map(|d| d.iter())
        .filter(|d| d.total_space() > 0)
        .filter(|d| seen.insert((d.name().to_os_string(), d.total_space())))
        .map(|d| {
            let total = d.total_space();
            let avail = d.available_space();
            DiskFigures {
                mount_point: d.mount_point().display().to_string(),
                filesystem: d.file_system().to_string_lossy().into_owned(),
                total_bytes: total,
                available_bytes: avail,
                used_percent: ((total - avail.min(total)) as f64 * 1000.0 / total as f64).round() / 10.0,
            }
        })
        .collect()
}

/// Reads the host's figures. CPU usage needs two samples; they are taken
/// `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL` apart.
pub fn host_figures() -> HostFigures {
    use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
    let mut sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing().with_usage())
            .with_memory(MemoryRefreshKind::everything()),
    )
    .ok();
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    if let Some(s) = sys.as_mut() {
        s.refresh_cpu_usage();
    }
    let load = System::load_average()
        .map(|l| [l.one, l.five, l.fifteen])
        .unwrap_or_default();
    let disks = disk_figures();
    HostFigures {
        hostname: System::host_name().ok(),
        cpus: sys.as_ref().map_or(0, |s| s.cpus().len()),
        cpu_usage_percent: sys
            .as_ref()
            .map_or(0.0, |s| (s.global_cpu_usage() * 10.0).round() / 10.0),
        load_average: load,
        memory_total_bytes: sys.as_ref().map_or(0, |s| s.total_memory()),
        memory_used_bytes: sys.as_ref().map_or(0, |s| s.used_memory()),
        swap_total_bytes: sys.as_ref().map_or(0, |s| s.total_swap()),
        swap_used_bytes: sys.as_ref().map_or(0, |s| s.used_swap()),
        uptime_seconds: System::uptime().unwrap_or(0),
        disks,
    }
}

/// Everything `status` shows. `db` is the real path of the database, if
/// the last apply should be read from it.
pub fn collect(ctx: &Context<'_>, db: Option<&Path>) -> StatusReport {
    let modules = modules::selected(ctx.config, &[])
        .unwrap_or_default()
        .iter()
        .map(|m| m.status(ctx))
        .collect();
    let last_apply = db
        .filter(|p| p.exists())
        .and_then(|p| Store::open(p).ok())
        .and_then(|s| s.recent_applies(1).ok())
        .and_then(|mut v| v.pop());
    StatusReport {
        host: host_figures(),
        modules,
        last_apply,
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60);
    if d > 0 {
        format!("{d} d {h} h {m} min")
    } else {
        format!("{h} h {m} min")
    }
}

impl StatusReport {
    pub fn render(&self) -> String {
        let h = &self.host;
        let mut out = format!(
            "Host {}\n  CPU      {} core(s), {:.1}% used, load {:.2} {:.2} {:.2}\n  memory   {} used of {}\n  swap     {} used of {}\n  uptime   {}\n",
            h.hostname.as_deref().unwrap_or("?"),
            h.cpus,
            h.cpu_usage_percent,
            h.load_average[0],
            h.load_average[1],
            h.load_average[2],
            bytes(h.memory_used_bytes),
            bytes(h.memory_total_bytes),
            bytes(h.swap_used_bytes),
            bytes(h.swap_total_bytes),
            duration(h.uptime_seconds),
        );
        for d in &h.disks {
            out.push_str(&format!(
                "  disk     {} ({}): {:.1}% used, {} free of {}\n",
                d.mount_point,
                d.filesystem,
                d.used_percent,
                bytes(d.available_bytes),
                bytes(d.total_bytes)
            ));
        }
        out.push_str("Modules\n");
        for m in &self.modules {
            let state = match m.state {
                modules::State::Ok => "ok",
                modules::State::Degraded => "DEGRADED",
                modules::State::Failed => "FAILED",
            };
            out.push_str(&format!("  {:<12} {state}\n", m.module));
            for d in &m.details {
                out.push_str(&format!("      {d}\n"));
            }
        }
        match &self.last_apply {
            Some(a) => out.push_str(&format!(
                "Last apply: {} ({} change(s), {} ms, {})\n",
                a.started_at,
                a.changes,
                a.duration_ms,
                if a.ok { "ok" } else { "FAILED" }
            )),
            None => out.push_str("Last apply: never\n"),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(duration(90061), "1 d 1 h 1 min");
    }

    #[test]
    fn host_figures_are_plausible() {
        let h = host_figures();
        assert!(h.cpus >= 1);
        assert!(h.memory_total_bytes > 0);
        assert!(!h.disks.is_empty());
    }
}
