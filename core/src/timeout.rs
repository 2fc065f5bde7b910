//! `migrate:timeout statement=<duration> lock=<duration>`: how long each
//! statement of a migration may run, and how long it may wait for a lock
//! held by someone else, before the database stops it. Either key may be
//! left out; a duration is a whole number with its unit (`500ms`, `30s`,
//! `5m`, `1h`). `Settings` gives the values for a whole set; a header's
//! win for its file.

use crate::directive::Header;
use crate::problem::{Problem, Rule};
use crate::scanned::ScannedFile;
use std::time::Duration;

/// The timeouts a header sets; `None` where it sets none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// The longest any one statement may run.
    pub statement: Option<Duration>,
    /// The longest a statement may wait for a lock.
    pub lock: Option<Duration>,
}

impl Timeouts {
    /// The timeouts of `header`, or what is wrong with its
    /// `migrate:timeout` line.
    pub fn from_header(header: &Header) -> Result<Timeouts, String> {
        let Some(arguments) = &header.timeout else {
            return Ok(Timeouts::default());
        };
        let mut timeouts = Timeouts::default();
        for argument in arguments.split_whitespace() {
            let written = format!("`migrate:timeout {arguments}`");
            let (key, value) = argument
                .split_once('=')
                .ok_or_else(|| format!("{written}: `{argument}` is not `statement=<duration>` or `lock=<duration>`"))?;
            let slot = match key {
                "statement" => &mut timeouts.statement,
                "lock" => &mut timeouts.lock,
                other => {
                    return Err(format!(
                        "{written}: unknown key `{other}`; the keys are `statement` and `lock`"
                    ))
                }
            };
            if slot.is_some() {
                return Err(format!("{written}: `{key}` is given twice"));
            }
            *slot = Some(parse_duration(value).map_err(|why| format!("{written}: `{key}={value}`: {why}"))?);
        }
        if timeouts == Timeouts::default() {
            return Err(format!(
                "`migrate:timeout {arguments}` sets nothing; write `migrate:timeout statement=30s lock=5s` (either key alone is fine)"
            ));
        }
        Ok(timeouts)
    }

    /// These timeouts, with `defaults` where they set none.
    pub fn or(self, defaults: Timeouts) -> Timeouts {
        Timeouts {
            statement: self.statement.or(defaults.statement),
            lock: self.lock.or(defaults.lock),
        }
    }
}

/// A duration as `parse_duration` reads it, in its largest whole unit.
pub fn show(duration: Duration) -> String {
    let millis = duration.as_millis();
    match millis {
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1_000 == 0 => format!("{}s", m / 1_000),
        m => format!("{m}ms"),
    }
}

/// A positive whole number with its unit: `ms`, `s`, `m` or `h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| "a duration is a whole number with its unit: 500ms, 30s, 5m, 1h".to_string())?;
    let millis = match unit {
        "ms" => Some(number),
        "s" => number.checked_mul(1_000),
        "m" => number.checked_mul(60_000),
        "h" => number.checked_mul(3_600_000),
        "" => return Err(format!("`{number}` has no unit: write {number}ms or {number}s")),
        other => return Err(format!("unknown unit `{other}`: the units are ms, s, m and h")),
    };
    match millis {
        Some(0) => Err("a timeout of zero would stop every statement; leave the key out for none".to_string()),
        // PostgreSQL takes at most i32::MAX milliseconds (24 days).
        Some(millis) if millis <= i32::MAX as u64 => Ok(Duration::from_millis(millis)),
        _ => Err("too long: at most 596h (PostgreSQL's limit, 2^31 - 1 ms)".to_string()),
    }
}

/// The build-time rule: a `migrate:timeout` line that reads.
pub(crate) fn check(files: [&ScannedFile; 2], problems: &mut Vec<Problem>) {
    for file in files {
        if file.header.timeout.is_some() && file.header.batch.is_some() {
            problems.push(Problem::new(
                Rule::Timeout,
                &file.path,
                format!(
                    "`{}`: `migrate:timeout` does not apply to a `migrate:batch` migration, whose batches run \
                     in transactions of their own; bound the batch size instead",
                    file.file_name
                ),
            ));
        }
        if let Err(message) = Timeouts::from_header(&file.header) {
            problems.push(Problem::new(
                Rule::Timeout,
                &file.path,
                format!("`{}`: {message}", file.file_name),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_header, Language};

    fn timeouts(line: &str) -> Result<Timeouts, String> {
        Timeouts::from_header(&parse_header(&format!("-- migrate:timeout {line}\nSELECT 1;"), Language::Sql).unwrap())
    }

    #[test]
    fn reads_both_keys_in_any_order() {
        let both = timeouts("lock=5s statement=2m").unwrap();
        assert_eq!(both.statement, Some(Duration::from_secs(120)));
        assert_eq!(both.lock, Some(Duration::from_secs(5)));
        assert_eq!(timeouts("statement=250ms").unwrap().lock, None);
        assert_eq!(
            Timeouts::from_header(&parse_header("SELECT 1;", Language::Sql).unwrap()),
            Ok(Timeouts::default())
        );
    }

    #[test]
    fn refuses_what_does_not_read() {
        for (line, needle) in [
            ("statement=30", "no unit"),
            ("statement=0s", "zero"),
            ("statement=3d", "unknown unit"),
            ("statment=3s", "unknown key"),
            ("lock=1s lock=2s", "twice"),
            ("lock", "is not"),
            ("statement=-1s", "whole number"),
            ("statement=1000h", "too long"),
            ("", "sets nothing"),
        ] {
            let err = timeouts(line).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }
}
