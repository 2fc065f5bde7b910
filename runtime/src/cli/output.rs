//! Where the ops command line writes. std's `print!`/`println!` panic when
//! stdout is a pipe whose reader has gone (`app migrate history --json |
//! head -1`), and `eprintln!` likewise on a closed stderr. These macros of the
//! same names replace them in the command line's modules (imported by name,
//! they shadow std's): each call writes through a locked handle, and a
//! closed pipe ends the output, not the process. The command then finishes
//! what it was doing (never a migration abandoned halfway because a reader
//! stopped reading) and exits with its own code.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout failed: later output is dropped.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

macro_rules! print {
    ($($arg:tt)*) => { $crate::cli::output::stdout(::std::format_args!($($arg)*), false) };
}

macro_rules! println {
    () => { $crate::cli::output::stdout(::std::format_args!(""), true) };
    ($($arg:tt)*) => { $crate::cli::output::stdout(::std::format_args!($($arg)*), true) };
}

macro_rules! eprintln {
    ($($arg:tt)*) => { $crate::cli::output::stderr(::std::format_args!($($arg)*)) };
}

pub(crate) use {eprintln, print, println};

/// Writes `args` (and a newline) to stdout; after a failed write, nothing.
pub(crate) fn stdout(args: Arguments<'_>, newline: bool) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let mut written = out.write_fmt(args);
    if newline && written.is_ok() {
        written = out.write_all(b"\n");
    }
    if let Err(err) = written {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        // A reader that stopped reading is normal (`| head`); anything else
        // (a full disk under `> file`) is said once, on stderr.
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            stderr(format_args!("error: cannot write the output: {err}"));
        }
    }
}

/// Flushes stdout at the end of a command; a closed pipe is not an error.
pub(crate) fn flush() {
    if !STDOUT_GONE.load(Ordering::Relaxed) && std::io::stdout().lock().flush().is_err() {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
}

/// Writes one line to stderr; after a failed write, nothing.
pub(crate) fn stderr(args: Arguments<'_>) {
    if STDERR_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut err = std::io::stderr().lock();
    if err.write_fmt(args).and_then(|()| err.write_all(b"\n")).is_err() {
        STDERR_GONE.store(true, Ordering::Relaxed);
    }
}
