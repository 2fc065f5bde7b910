//! Medians, minimums and the units the table prints.

use serde::{Deserialize, Serialize};

/// One measured series, as an app prints it (one JSON line) and the harness
/// reads it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Series {
    /// Row label: `ours`, `ours (group)`, `sqlx`, `refinery`, ... or a floor.
    pub tool: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub n: usize,
    /// `W1`, `W2`, `W2 floor SELECT 1`, `W2 floor tracking read`.
    pub workload: String,
    /// Seconds, one per repetition.
    pub samples: Vec<f64>,
    /// Free text for the table (what was measured through what).
    #[serde(default)]
    pub note: String,
}

pub fn median(samples: &[f64]) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn min(samples: &[f64]) -> f64 {
    samples.iter().cloned().fold(f64::INFINITY, f64::min)
}

/// Seconds in the unit that keeps three significant digits readable.
pub fn fmt_secs(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
    }
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

pub fn fmt_bytes(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}
