//! The reader's way into the database, across password rotations.
//!
//! In the deployed form the password lives in Secrets Manager, and rotation changes it under a
//! running function. Secrets Manager's rotation sets the new password in the database first
//! (`setSecret`, the version staged `AWSPENDING`) and only then makes it `AWSCURRENT`
//! (`finishSecret`). So a warm instance holding the old password is refused from the first of
//! those steps on. The password is therefore read again when it is older than
//! `DB_SECRET_TTL_SECONDS`, and at once when the database refuses a login: `AWSCURRENT` first,
//! and, if that is the password just refused, `AWSPENDING` (the rotation's window between the
//! two steps). The caller retries once with the pool this gives.
//!
//! AWS's `aws_secretsmanager_caching` crate caches a secret with a TTL too, but it would add a
//! second SDK client configuration (its own builder and HTTP stack) to the cold start, and what
//! this needs beyond a TTL (reading another stage on a refusal, rebuilding the pool) it does not
//! do; the cache here is a timestamp and a string.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::connection::{DatabaseSecret, DatabaseSettings, DeployedDatabase, SecretStage};
use mysql_async::Pool;
use tracing::{info, warn};

/// The COFFEE database: a fixed pool (`DATABASE_URL`), or the deployed one, whose pool is rebuilt
/// when the secret's password changes.
pub struct Database {
    pool: Mutex<Pool>,
    rotating: Option<Rotating>,
}

struct Rotating {
    secret: DatabaseSecret,
    ttl: Duration,
    /// The database with the password in use, and when that password was read.
    current: Mutex<(DeployedDatabase, Instant)>,
}

impl From<Pool> for Database {
    fn from(pool: Pool) -> Self {
        Self {
            pool: Mutex::new(pool),
            rotating: None,
        }
    }
}

impl Database {
    /// The database the settings describe; in the deployed form its password is read again after
    /// `ttl`, or when a login is refused.
    pub fn new(settings: DatabaseSettings, ttl: Duration) -> Self {
        match settings {
            DatabaseSettings::Url(pool) => pool.into(),
            DatabaseSettings::Deployed(database, secret) => Self {
                pool: Mutex::new(database.pool()),
                rotating: Some(Rotating {
                    secret,
                    ttl,
                    current: Mutex::new((database, Instant::now())),
                }),
            },
        }
    }

    fn pool_now(&self) -> Pool {
        self.pool.lock().expect("not poisoned").clone()
    }

    /// The pool to use now. Past the TTL the password is read again first; if that read fails,
    /// the pool in use is kept (the password may well still work).
    pub async fn pool(&self) -> Pool {
        let Some(rotating) = &self.rotating else {
            return self.pool_now();
        };
        let read_at = rotating.current.lock().expect("not poisoned").1;
        if read_at.elapsed() >= rotating.ttl {
            match rotating.secret.password(SecretStage::Current).await {
                Ok(password) => {
                    self.use_password(rotating, password);
                }
                Err(e) => warn!(error = e, "keeping the database password in use"),
            }
        }
        self.pool_now()
    }

    /// After the database refused a login: a pool with another password the secret now holds
    /// (`AWSCURRENT`, else a rotation's `AWSPENDING`), or None when it holds no other.
    pub async fn after_refusal(&self) -> Option<Pool> {
        let rotating = self.rotating.as_ref()?;
        for stage in [SecretStage::Current, SecretStage::Pending] {
            match rotating.secret.password(stage).await {
                Ok(password) => {
                    if self.use_password(rotating, password) {
                        info!(
                            ?stage,
                            "the database password changed; reconnecting with it"
                        );
                        return Some(self.pool_now());
                    }
                }
                // No AWSPENDING outside a rotation: nothing else to try.
                Err(e) => warn!(?stage, error = e, "no other database password"),
            }
        }
        None
    }

    /// Takes `password`, marks it just read, and rebuilds the pool if it differs from the one in
    /// use. Whether it did.
    fn use_password(&self, rotating: &Rotating, password: String) -> bool {
        let mut current = rotating.current.lock().expect("not poisoned");
        current.1 = Instant::now();
        if current.0.password == password {
            return false;
        }
        current.0.password = password;
        let fresh = current.0.pool();
        // The old pool's connections close as they are dropped.
        *self.pool.lock().expect("not poisoned") = fresh;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::DatabaseTls;
    use aws_sdk_secretsmanager::operation::get_secret_value::{
        GetSecretValueError, GetSecretValueOutput,
    };
    use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

    fn stage_is(
        stage: &'static str,
    ) -> impl Fn(&aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueInput) -> bool
    {
        move |input| input.version_stage() == Some(stage)
    }

    fn holds(stage: &'static str, password: &'static str) -> Rule {
        mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(stage_is(stage))
            .then_output(move || {
                GetSecretValueOutput::builder()
                    .secret_string(format!(r#"{{"password": "{password}"}}"#))
                    .build()
            })
    }

    fn database(rules: &[&Rule], ttl: Duration) -> Database {
        let deployed = DeployedDatabase {
            host: "127.0.0.1".into(),
            port: 9,
            user: "reader".into(),
            password: "old".into(),
            name: "coffee".into(),
            tls: DatabaseTls::Disabled,
        };
        let secret = DatabaseSecret {
            client: mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, rules),
            arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cafe-AbCdEf".into(),
        };
        Database::new(DatabaseSettings::Deployed(deployed, secret), ttl)
    }

    fn in_use(database: &Database) -> String {
        let rotating = database.rotating.as_ref().unwrap();
        rotating.current.lock().unwrap().0.password.clone()
    }

    #[tokio::test]
    async fn within_the_ttl_the_secret_is_not_read_and_past_it_a_new_password_is_taken() {
        let current = holds("AWSCURRENT", "new");
        let fresh = database(&[&current], Duration::from_secs(3600));
        fresh.pool().await;
        assert_eq!((current.num_calls(), in_use(&fresh)), (0, "old".into()));

        let stale = database(&[&current], Duration::ZERO);
        stale.pool().await;
        assert_eq!((current.num_calls(), in_use(&stale)), (1, "new".into()));
    }

    #[tokio::test]
    async fn a_secret_that_cannot_be_read_past_the_ttl_keeps_the_password_in_use() {
        let failing = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .then_error(|| GetSecretValueError::unhandled("no route to Secrets Manager"));
        let database = database(&[&failing], Duration::ZERO);
        database.pool().await;
        assert_eq!((failing.num_calls(), in_use(&database)), (1, "old".into()));
    }

    #[tokio::test]
    async fn after_a_refusal_the_current_then_the_pending_password_is_tried_and_nothing_else() {
        // Rotation's window: AWSCURRENT still holds the refused password, AWSPENDING the new one.
        let current = holds("AWSCURRENT", "old");
        let pending = holds("AWSPENDING", "new");
        let window = database(&[&current, &pending], Duration::from_secs(3600));
        assert!(window.after_refusal().await.is_some());
        assert_eq!(in_use(&window), "new");

        // No rotation under way: no other password, one read of each stage, no loop.
        let current = holds("AWSCURRENT", "old");
        let no_pending = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(stage_is("AWSPENDING"))
            .then_error(|| {
                GetSecretValueError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .message("no AWSPENDING")
                        .build(),
                )
            });
        let settled = database(&[&current, &no_pending], Duration::from_secs(3600));
        assert!(settled.after_refusal().await.is_none());
        assert_eq!((current.num_calls(), no_pending.num_calls()), (1, 1));
        assert_eq!(in_use(&settled), "old");
    }

    #[tokio::test]
    async fn a_fixed_pool_never_reads_a_secret() {
        let pool = mysql_async::Pool::new("mysql://reader@127.0.0.1:9/coffee");
        let database = Database::from(pool);
        database.pool().await;
        assert!(database.after_refusal().await.is_none());
    }
}
