//! Logging: to the journal (with structured fields) when running under
//! systemd, else readable lines on stderr with `key=value` fields.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;

/// Sets up the logger for a verbosity (0: info for the daemon, warnings
/// only for other commands, whose output already says what happened;
/// 1: debug, 2+: trace).
pub fn init(verbosity: u8, daemon: bool) {
    let level = match verbosity {
        0 if daemon => LevelFilter::Info,
        0 => LevelFilter::Warn,
        1 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    if systemd_journal_logger::connected_to_journal()
        && let Ok(logger) = systemd_journal_logger::JournalLog::new()
        && logger.with_syslog_identifier("preau".into()).install().is_ok()
    {
        log::set_max_level(level);
        return;
    }
    if log::set_boxed_logger(Box::new(Stderr)).is_ok() {
        log::set_max_level(level);
    }
}

struct Stderr;

struct Fields(String);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let v = value.to_string();
        if v.contains(char::is_whitespace) || v.is_empty() {
            self.0.push_str(&format!(" {key}={v:?}"));
        } else {
            self.0.push_str(&format!(" {key}={v}"));
        }
        Ok(())
    }
}

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Dependencies' chatter stays out below debug level.
        if record.level() > Level::Warn && !record.target().starts_with("preau") {
            return;
        }
        let mut fields = Fields(String::new());
        let _ = record.key_values().visit(&mut fields);
        let level = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        let _ = writeln!(std::io::stderr(), "preau: {level}: {}{}", record.args(), fields.0);
    }

    fn flush(&self) {}
}
