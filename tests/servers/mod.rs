//! What the PostgreSQL and MySQL suites share beyond the scenarios: child
//! processes (the test binary re-running one of its own tests as the child,
//! so no extra binary is built), a common start instant, and a small
//! deterministic random source for kill moments.
#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Sleeps until the wall-clock instant `start_ms`, so that processes
/// started one after the other begin their work together.
pub async fn wait_until(start_ms: u64) {
    tokio::time::sleep(Duration::from_millis(start_ms.saturating_sub(now_ms()))).await;
}

/// Starts this test binary running only the test `entry`, with `envs`.
pub fn spawn_child(entry: &str, envs: &[(&str, String)]) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args(["--exact", entry, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    command.spawn().expect("spawn the child process")
}

/// The number a child printed after `marker`, failing with its output.
pub fn reported(output: &Output, marker: &str) -> usize {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    stdout
        .lines()
        .find_map(|line| line.split(marker).nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("child did not report `{marker}`:\n{stdout}\n{stderr}"))
}

/// xorshift64*: reproducible kill moments from a printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let seed = std::env::var("EMBEDDED_MIGRATIONS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| now_ms() ^ u64::from(std::process::id()) << 20);
        eprintln!("random seed: {seed} (set EMBEDDED_MIGRATIONS_SEED to replay)");
        Rng(seed | 1)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}
