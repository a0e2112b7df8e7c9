//! Comparing the migrations a database has applied with those this binary embeds.

use std::collections::BTreeMap;

use sqlx::migrate::{MigrateError, Migrator};

use crate::StoreError;

/// A row of `_sqlx_migrations`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Applied {
    pub(crate) version: i64,
    pub(crate) checksum: Vec<u8>,
    pub(crate) success: bool,
}

fn known(migrator: &Migrator) -> BTreeMap<i64, &[u8]> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, &*m.checksum))
        .collect()
}

/// Refuses a database that a newer Keikai has migrated. Run before migrating, so that an old
/// binary pointed at a new database fails without writing anything.
pub(crate) fn refuse_newer(migrator: &Migrator, applied: &[Applied]) -> Result<(), StoreError> {
    let known = known(migrator);
    let latest_known = known.keys().next_back().copied().unwrap_or(0);
    match applied
        .iter()
        .map(|a| a.version)
        .filter(|v| !known.contains_key(v))
        .max()
    {
        Some(found) if found > latest_known => Err(StoreError::TooNew {
            found,
            known: latest_known,
        }),
        Some(found) => Err(StoreError::Config(format!(
            "the database has applied migration {found}, which this Keikai does not have; \
             it was made by a different build of Keikai"
        ))),
        None => Ok(()),
    }
}

/// Checks that the database holds exactly the migrations this binary knows, all applied.
/// `applied` is `None` when the migrations table does not exist.
pub(crate) fn check(migrator: &Migrator, applied: Option<&[Applied]>) -> Result<(), StoreError> {
    let applied = applied.unwrap_or_default();
    refuse_newer(migrator, applied)?;
    let known = known(migrator);
    for a in applied {
        if !a.success {
            return Err(StoreError::Config(format!(
                "migration {} failed partway; restore the database from a backup",
                a.version
            )));
        }
        if known
            .get(&a.version)
            .is_some_and(|c| *c != a.checksum.as_slice())
        {
            return Err(StoreError::Config(format!(
                "migration {} was changed after it was applied to this database",
                a.version
            )));
        }
    }
    let pending = known
        .keys()
        .filter(|v| !applied.iter().any(|a| a.version == **v))
        .count();
    if pending > 0 {
        return Err(StoreError::Config(format!(
            "the database schema is not up to date ({pending} of {} migrations pending); \
             run `keikai db migrate`",
            known.len()
        )));
    }
    Ok(())
}

pub(crate) fn migrate_error(
    e: MigrateError,
    db: impl FnOnce(sqlx::Error) -> StoreError,
) -> StoreError {
    match e {
        MigrateError::Execute(e) => db(e),
        MigrateError::ExecuteMigration(e, version) => match db(e) {
            StoreError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Other(format!("migration {version} failed: {other}")),
        },
        other => StoreError::Config(format!("cannot migrate the database: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType};

    use super::*;

    fn migrator(versions: &[i64]) -> Migrator {
        Migrator::with_migrations(
            versions
                .iter()
                .map(|v| {
                    Migration::new(
                        *v,
                        Cow::Borrowed("m"),
                        MigrationType::Simple,
                        "SELECT 1".into_sql_str(),
                        false,
                    )
                })
                .collect(),
        )
    }

    fn applied(m: &Migrator, versions: &[i64]) -> Vec<Applied> {
        let checksum = m
            .iter()
            .next()
            .map(|m| m.checksum.to_vec())
            .unwrap_or_default();
        versions
            .iter()
            .map(|v| Applied {
                version: *v,
                checksum: checksum.clone(),
                success: true,
            })
            .collect()
    }

    #[test]
    fn schema_states() {
        let m = migrator(&[1, 2]);
        assert!(check(&m, Some(&applied(&m, &[1, 2]))).is_ok());
        let err = check(&m, None).unwrap_err().to_string();
        assert!(err.contains("2 of 2 migrations pending"), "{err}");
        let err = check(&m, Some(&applied(&m, &[1]))).unwrap_err().to_string();
        assert!(err.contains("1 of 2"), "{err}");
        assert!(matches!(
            check(&m, Some(&applied(&m, &[1, 2, 7]))),
            Err(StoreError::TooNew { found: 7, known: 2 })
        ));
        let mut dirty = applied(&m, &[1, 2]);
        dirty[1].success = false;
        assert!(
            check(&m, Some(&dirty))
                .unwrap_err()
                .to_string()
                .contains("migration 2 failed")
        );
        let mut changed = applied(&m, &[1, 2]);
        changed[0].checksum = vec![0];
        assert!(
            check(&m, Some(&changed))
                .unwrap_err()
                .to_string()
                .contains("migration 1 was changed")
        );
        assert!(refuse_newer(&m, &[]).is_ok());
    }
}
