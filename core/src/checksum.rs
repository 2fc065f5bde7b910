use sha2::{Digest, Sha256};
use std::fmt;

/// SHA-256 of a migration file with line endings normalised.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(pub [u8; 32]);

impl Checksum {
    /// All zero bytes: the running hash of an empty set, and the checksum of
    /// the empty down file a repeatable migration is embedded with.
    pub const ZERO: Checksum = Checksum([0; 32]);

    /// The 64 lowercase hex digits of the sum.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from_digit((byte >> 4) as u32, 16).unwrap_or('0'));
            out.push(char::from_digit((byte & 0xf) as u32, 16).unwrap_or('0'));
        }
        out
    }

    /// Reads 64 hex digits (either case, surrounding blanks ignored);
    /// `None` when the text is anything else.
    pub fn from_hex(hex: &str) -> Option<Checksum> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(Checksum(out))
    }

    /// The first twelve hex digits: enough to tell two sums apart in a table.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", self.to_hex())
    }
}

/// Checksum of a file's text. CRLF and lone CR count as LF, and a leading BOM
/// counts as nothing, so a checkout with Windows line endings or an editor
/// that adds a BOM never looks like drift.
pub fn checksum(text: &str) -> Checksum {
    let mut hasher = Sha256::new();
    let bytes = crate::split::strip_bom(text).as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            hasher.update(&bytes[start..i]);
            hasher.update(b"\n");
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    hasher.update(&bytes[start.min(bytes.len())..]);
    Checksum(hasher.finalize().into())
}

/// One link of the running hash over the applied set, in version order.
///
/// The tracking state keeps the hash of everything applied; the macro
/// precomputes it for every prefix of the folder, so a boot with nothing
/// pending compares one row instead of reading every applied migration.
pub fn chain_step(previous: &Checksum, version: i64, checksum: &Checksum) -> Checksum {
    let mut hasher = Sha256::new();
    hasher.update(previous.0);
    hasher.update(version.to_be_bytes());
    hasher.update(checksum.0);
    Checksum(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use crate::checksum::{checksum, Checksum};

    #[test]
    fn line_endings_do_not_change_the_sum() {
        let lf = checksum("CREATE TABLE a (id INT);\nSELECT 1;\n");
        assert_eq!(lf, checksum("CREATE TABLE a (id INT);\r\nSELECT 1;\r\n"));
        assert_eq!(lf, checksum("CREATE TABLE a (id INT);\rSELECT 1;\r"));
        assert_ne!(lf, checksum("CREATE TABLE a (id INT);\nSELECT 2;\n"));
    }

    #[test]
    fn a_bom_does_not_change_the_sum() {
        let plain = checksum("CREATE TABLE a (id INT);\n");
        assert_eq!(plain, checksum("\u{feff}CREATE TABLE a (id INT);\n"));
        assert_eq!(plain, checksum("\u{feff}CREATE TABLE a (id INT);\r\n"));
        assert_ne!(plain, checksum("CREATE TABLE a (id INT);\u{feff}\n"));
    }

    #[test]
    fn hex_round_trips() {
        let sum = checksum("x");
        assert_eq!(Checksum::from_hex(&sum.to_hex()), Some(sum));
        assert_eq!(Checksum::from_hex("zz"), None);
    }
}
