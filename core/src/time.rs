//! UTC timestamps without a date crate: the tracking tables store ISO-8601
//! text so that every backend (and a person with a SQL shell) reads the same.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2026-11-23T09:30:00.123Z` for the current time.
pub fn now_iso8601() -> String {
    iso8601(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// `since` the epoch as `2026-11-23T09:30:00.123Z`, written digit by digit
/// rather than with `format!`: a run writes two per migration, and
/// `format!`'s padding is a measurable part of the run of a large group.
fn iso8601(since: Duration) -> String {
    let (y, mo, d, h, mi, s) = civil(since.as_secs() as i64);
    let mut out = String::with_capacity(24);
    for (value, width, after) in [
        (y.max(0) as u32, 4, '-'),
        (mo, 2, '-'),
        (d, 2, 'T'),
        (h, 2, ':'),
        (mi, 2, ':'),
        (s, 2, '.'),
        (since.subsec_millis(), 3, 'Z'),
    ] {
        let digits = value.checked_ilog10().unwrap_or(0) + 1;
        for k in (0..width.max(digits)).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(k) % 10) as u8));
        }
        out.push(after);
    }
    out
}

/// `20261123093000` for the current time: a timestamp migration version.
pub fn now_version() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, d, h, mi, s) = civil(since.as_secs() as i64);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// Seconds since the epoch to (year, month, day, hour, minute, second), by
/// Howard Hinnant's days-from-civil inverse.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use crate::time::{civil, iso8601};
    use std::time::Duration;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_795_426_200), (2026, 11, 23, 9, 30, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
    }

    #[test]
    fn iso8601_pads_every_field() {
        assert_eq!(iso8601(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(Duration::from_millis(1_795_426_200_007)),
            "2026-11-23T09:30:00.007Z"
        );
        assert_eq!(
            iso8601(Duration::from_millis(253_402_300_799_999)),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            iso8601(Duration::from_secs(253_402_300_800)),
            "10000-01-01T00:00:00.000Z"
        );
    }
}
