//! The template's name (a hash of the set's checksums up to its version)
//! and the order a build runs in, once for every backend: each backend's
//! file fills in [`Store`].

use crate::{Error, Migrator, Sql};
use sha2::{Digest, Sha256};

/// The prefix of a published template's name.
pub const TEMPLATE_PREFIX: &str = "emtpl_";
/// The prefix of a template being built (or left by a build that was killed).
pub const BUILDING_PREFIX: &str = "embld_";

/// A migration set at a version, to build once and copy.
pub struct Template<'a> {
    migrator: Migrator<'a, Sql>,
    version: i64,
}

impl<'a> Template<'a> {
    /// Every migration of the set (`&MIGRATIONS`, or `&MIGRATIONS.with(settings)`).
    pub fn of(migrations: &Migrator<'a, Sql>) -> Self {
        let version = migrations.migrations().last().map_or(0, |m| m.version);
        Template {
            migrator: migrations.clone(),
            version,
        }
    }

    /// The migrations up to and including `version` only.
    pub fn to(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The version the template is migrated to.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The migrations and settings the template is built with.
    pub fn migrator(&self) -> &Migrator<'a, Sql> {
        &self.migrator
    }

    /// The published template's name: `emtpl_<set>_<version>_<checksums>`
    /// (at most 55 characters, a valid unquoted name on every server).
    pub fn name(&self) -> String {
        format!("{TEMPLATE_PREFIX}{}", self.suffix())
    }

    /// The name it is built under before it is published.
    pub fn building_name(&self) -> String {
        format!("{BUILDING_PREFIX}{}", self.suffix())
    }

    fn suffix(&self) -> String {
        format!(
            "{}_{}_{}",
            self.lineage(),
            version_text(self.version),
            self.key_at(self.version)
        )
    }

    /// What identifies the set whatever its files hold: the tracking table
    /// and schema, and the first migration's version and name. Two sets
    /// tracked in the same table of the same database are one set.
    fn lineage(&self) -> String {
        let settings = self.migrator.settings();
        let mut hash = Sha256::new();
        hash.update(settings.table_name().as_bytes());
        hash.update([0]);
        hash.update(settings.schema_name().unwrap_or("").as_bytes());
        hash.update([0]);
        if let Some(first) = self.migrator.migrations().first() {
            hash.update(first.version.to_string().as_bytes());
            hash.update(first.name.as_bytes());
        }
        hex(&hash.finalize()[..5])
    }

    /// The checksums of every migration up to `version` and of every
    /// repeatable migration, and the values of the placeholders their up
    /// files use: what the copy's schema and records depend on.
    fn key_at(&self, version: i64) -> String {
        let settings = self.migrator.settings();
        let mut hash = Sha256::new();
        hash.update(b"embedded-migrations template 1\n");
        let values = |hash: &mut Sha256, m: &crate::Migration| {
            for name in m.up.placeholders {
                let value = settings.placeholder_value(name).unwrap_or("");
                hash.update(format!("  {name}={value}\n").as_bytes());
            }
        };
        for m in self.migrator.migrations().iter().filter(|m| m.version <= version) {
            hash.update(format!("{} {} {}\n", m.version, m.name, m.checksum().to_hex()).as_bytes());
            values(&mut hash, m);
        }
        for m in self.migrator.repeatables() {
            hash.update(format!("repeatable {} {}\n", m.name, m.checksum().to_hex()).as_bytes());
            values(&mut hash, m);
        }
        hex(&hash.finalize()[..8])
    }

    /// Whether `name` is a template of this set (any version) built from
    /// files that are no longer the set's: it can never be used again.
    pub fn is_stale(&self, name: &str) -> bool {
        let Some(rest) = name.strip_prefix(TEMPLATE_PREFIX) else {
            return false;
        };
        let mut parts = rest.splitn(3, '_');
        let (Some(lineage), Some(version), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Some(version) = parse_version(version) else {
            return false;
        };
        lineage == self.lineage() && key != self.key_at(version)
    }

    /// A number that stands for the template in an advisory lock.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(super) fn lock_key(&self) -> i64 {
        let digest = Sha256::digest(self.name().as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(bytes)
    }
}

/// A version in a name: `n5` for -5 (a name holds no minus sign).
fn version_text(version: i64) -> String {
    if version < 0 {
        format!("n{}", version.unsigned_abs())
    } else {
        version.to_string()
    }
}

fn parse_version(text: &str) -> Option<i64> {
    match text.strip_prefix('n') {
        Some(negative) => negative.parse::<i64>().ok().map(|v| -v),
        None => text.parse().ok(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An sqlx failure while working on a template, with its source kept.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(super) fn sql_error(backend: &'static str, operation: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let operation = operation.into();
    move |err| Error::database(backend, operation, &err).with_source(err)
}

/// The steps of building a template, which differ per server; the order
/// they run in (and what a failure or a killed build leaves) is
/// [`ensure`]'s, once for all of them.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(super) trait Store {
    /// Held while building; dropping or releasing it lets the next builder in.
    type Lock;
    /// Whether a complete template of that name exists.
    async fn published(&self, name: &str) -> Result<bool, Error>;
    async fn lock(&self, template: &Template<'_>) -> Result<Self::Lock, Error>;
    async fn unlock(&self, lock: Self::Lock) -> Result<(), Error>;
    /// Drops what a build of that name left, if anything.
    async fn discard(&self, building: &str) -> Result<(), Error>;
    /// A new database `building`, with the template's migrations applied.
    async fn build(&self, building: &str, template: &Template<'_>) -> Result<(), Error>;
    /// Makes the complete build visible under `name`, at once.
    async fn publish(&self, building: &str, name: &str) -> Result<(), Error>;
    /// Every published template's name.
    async fn templates(&self) -> Result<Vec<String>, Error>;
    /// Drops a published template; `Ok(false)` when it is in use.
    async fn drop_template(&self, name: &str) -> Result<bool, Error>;
}

/// Makes sure the template is published, building it when it is not, and
/// returns its name. Several processes asking at once build it once: the
/// first takes the lock and builds, the others wait for the lock and find
/// it published. A build that fails is dropped; one that was killed is
/// found under its building name by the next builder and dropped first.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
async fn ensure<S: Store>(store: &S, template: &Template<'_>) -> Result<String, Error> {
    let name = template.name();
    if store.published(&name).await? {
        return Ok(name);
    }
    let lock = store.lock(template).await?;
    let built = build_locked(store, template, &name).await;
    let unlocked = store.unlock(lock).await;
    built?;
    unlocked?;
    Ok(name)
}

/// [`ensure`], then `copy` from the template's name. A build of a changed
/// set of the same lineage may drop this template as stale between the two
/// (it cannot tell a checkout of older files still in use): then the
/// template is built again and copied, up to three times.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(super) async fn ensure_and_copy<S: Store, F>(
    store: &S,
    template: &Template<'_>,
    copy: impl Fn(String) -> F,
) -> Result<(), Error>
where
    F: std::future::Future<Output = Result<(), Error>>,
{
    let mut attempt = 1;
    loop {
        let name = ensure(store, template).await?;
        match copy(name.clone()).await {
            Ok(()) => return Ok(()),
            Err(_) if attempt < 3 && !store.published(&name).await.unwrap_or(true) => attempt += 1,
            Err(err) => return Err(err),
        }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
async fn build_locked<S: Store>(store: &S, template: &Template<'_>, name: &str) -> Result<(), Error> {
    if store.published(name).await? {
        return Ok(());
    }
    let building = template.building_name();
    store.discard(&building).await?;
    if let Err(err) = store.build(&building, template).await {
        // Leave nothing a later test would take for a template.
        let _ = store.discard(&building).await;
        return Err(err);
    }
    store.publish(&building, name).await?;
    tracing::info!(template = %name, "built the migration template");
    // The set's templates of files that changed since: nothing copies them again.
    for stale in store.templates().await?.into_iter().filter(|t| template.is_stale(t)) {
        match store.drop_template(&stale).await {
            Ok(true) => tracing::info!(template = %stale, "dropped a stale migration template"),
            Ok(false) => tracing::debug!(template = %stale, "a stale template is in use; kept for now"),
            Err(err) => tracing::warn!(template = %stale, %err, "could not drop a stale template"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_versions_round_trip_through_names() {
        assert_eq!(version_text(-5), "n5");
        assert_eq!(parse_version("n5"), Some(-5));
        assert_eq!(parse_version("20240101"), Some(20240101));
        assert_eq!(parse_version("x"), None);
    }
}
