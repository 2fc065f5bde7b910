//! The live lines of `up`, `down` and `fresh`: `[3/12] 003 add_index ...
//! 12 ms` per migration, and a batch migration's progress (a bar on a
//! terminal, plain lines in logs and CI).

use super::output::{print, println};
use super::set::version_text;
use super::text::format_duration;
use crate::{BatchProgress, Direction, Progress, ProgressEvent};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Prints `[3/12] 003 add_index ... 12 ms` for each migration: the start of
/// the line when it starts, so a long migration shows what it is waiting
/// for, and the duration when it ends.
pub(super) struct ProgressPrinter<'a> {
    versions: &'a HashMap<i64, &'static str>,
    /// 1-based index of the step whose line is open; 0 when none.
    open: AtomicUsize,
    /// A batch migration's live bar, on a terminal only (plain lines
    /// otherwise, which logs and CI keep).
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
    terminal: bool,
}

impl<'a> ProgressPrinter<'a> {
    pub(super) fn new(versions: &'a HashMap<i64, &'static str>) -> Self {
        ProgressPrinter {
            versions,
            open: AtomicUsize::new(0),
            bar: std::sync::Mutex::new(None),
            terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
        }
    }

    pub(super) fn event(&self, p: &Progress) {
        // One `print!` per event: one locked write, so a line is whole.
        let mut text = String::new();
        if p.index == 1 && matches!(p.event, ProgressEvent::Started) {
            let verb = match p.direction {
                Direction::Up => "applying",
                Direction::Down => "reverting",
            };
            let _ = writeln!(text, "{verb} {} migration(s)", p.total);
        }
        let head = format!(
            "[{}/{}] {} {}",
            p.index,
            p.total,
            version_text(self.versions, p.version),
            p.name
        );
        match &p.event {
            ProgressEvent::Batch(batch) => self.batch(text, &head, batch),
            _ => self.step(text, &head, p),
        }
    }

    /// A batch of a batch migration: its lines follow its open head line;
    /// `Finished` then prints the head again with the duration.
    fn batch(&self, mut text: String, head: &str, batch: &BatchProgress) {
        if self.open.swap(0, Ordering::SeqCst) != 0 {
            text.push('\n');
        }
        if self.terminal {
            print!("{text}");
            self.draw_bar(head, batch);
            return;
        }
        let _ = writeln!(text, "{head}: {}", batch_line(batch));
        print!("{text}");
        let _ = std::io::stdout().flush();
    }

    /// A migration started, finished or failed: its line opened, or closed
    /// with the duration.
    fn step(&self, mut text: String, head: &str, p: &Progress) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut bar| bar.take()) {
            bar.finish_and_clear();
        }
        // Group mode reports only `Finished`: then the whole line is printed at once.
        let started = self.open.swap(0, Ordering::SeqCst) == p.index;
        let _ = match &p.event {
            ProgressEvent::Started => {
                self.open.store(p.index, Ordering::SeqCst);
                write!(text, "{head} ... ")
            }
            ProgressEvent::Finished(d) if started => writeln!(text, "{}", format_duration(*d)),
            ProgressEvent::Finished(d) => writeln!(text, "{head} ... {}", format_duration(*d)),
            ProgressEvent::Failed(d) if started => writeln!(text, "failed after {}", format_duration(*d)),
            ProgressEvent::Failed(d) => writeln!(text, "{head} ... failed after {}", format_duration(*d)),
            ProgressEvent::Batch(_) => Ok(()),
        };
        print!("{text}");
        let _ = std::io::stdout().flush();
    }

    /// Moves the batch migration's bar to `batch` (created on the first
    /// batch: a bar of `total` rows when the count query gave one, else a
    /// spinner).
    fn draw_bar(&self, head: &str, batch: &BatchProgress) {
        let Ok(mut slot) = self.bar.lock() else { return };
        let bar = slot.get_or_insert_with(|| {
            let bar = match batch.total {
                Some(total) => indicatif::ProgressBar::new(total),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template = match batch.total {
                Some(_) => "{prefix} [{bar:30}] {pos}/{len} rows {msg}",
                None => "{prefix} {spinner} {pos} rows {msg}",
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(head.to_string());
            bar
        });
        bar.set_position(batch.rows);
        let mut message = format!("batch {}, {:.0} rows/s", batch.batches, batch.rate);
        if let Some(eta) = batch.eta {
            let _ = write!(message, ", ETA {}", format_duration(eta));
        }
        bar.set_message(message);
    }

    /// Ends a line left open by an operation that stopped without a
    /// `Finished` or `Failed` event, so the error starts on its own line.
    pub(super) fn interrupted(&self) {
        if self.open.swap(0, Ordering::SeqCst) != 0 {
            println!("interrupted");
        }
    }
}

/// `batch 12: 60000/200000 rows (30%), 9500 rows/s, ETA 14 s`: one
/// batch migration's progress, as plain text.
fn batch_line(batch: &BatchProgress) -> String {
    let mut line = format!("batch {}: {}", batch.batches, batch.rows);
    if let Some(total) = batch.total {
        let percent = (batch.rows * 100).checked_div(total).unwrap_or(100);
        let _ = write!(line, "/{total} rows ({percent}%)");
    } else {
        line.push_str(" rows");
    }
    let _ = write!(line, ", {:.0} rows/s", batch.rate);
    if let Some(eta) = batch.eta {
        let _ = write!(line, ", ETA {}", format_duration(eta));
    }
    line
}

#[cfg(test)]
mod tests {
    // Named from the crate: .ci/imports.py reads `super` in an inline
    // module as this file's parent, `cli/mod.rs`.
    use crate::cli::progress::batch_line;
    use crate::BatchProgress;
    use std::time::Duration;

    #[test]
    fn a_batch_line_says_rows_total_rate_and_eta() {
        let batch = BatchProgress {
            batches: 12,
            rows: 60_000,
            total: Some(200_000),
            rate: 9_500.4,
            eta: Some(Duration::from_secs(15)),
        };
        let line = batch_line(&batch);
        assert!(
            line.starts_with("batch 12: 60000/200000 rows (30%), 9500 rows/s, ETA "),
            "{line}"
        );
        let open = BatchProgress {
            total: None,
            eta: None,
            ..batch
        };
        assert_eq!(batch_line(&open), "batch 12: 60000 rows, 9500 rows/s");
    }
}
