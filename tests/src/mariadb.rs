//! Throwaway MariaDB/MySQL databases with the COFFEE schema and sample data, one per test.

use mysql_async::prelude::Queryable;

use crate::workspace::workspace_root;

/// A throwaway database with the COFFEE schema and sample data, on the MariaDB/MySQL server of
/// `DATABASE_URL` (default `mysql://root@127.0.0.1:3306`). Dropped with the value.
pub struct TestDatabase {
    pub name: String,
    server: mysql_async::Opts,
}

impl TestDatabase {
    /// A new database loaded from `db/schema.sql` and `db/seed.sql`.
    pub async fn create() -> Self {
        let url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let opts = mysql_async::Opts::from_url(&url).expect("DATABASE_URL is a MySQL URL");
        Self::create_with(opts, &format!("{url} (set DATABASE_URL)")).await
    }

    /// The same on another server (one a test started for itself), reached with `server`.
    pub async fn create_on(server: mysql_async::Opts) -> Self {
        let described = match server.socket() {
            Some(socket) => socket.to_owned(),
            None => format!("{}:{}", server.ip_or_hostname(), server.tcp_port()),
        };
        Self::create_with(server, &described).await
    }

    async fn create_with(server: mysql_async::Opts, described: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let server: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(server)
            .db_name(None::<String>)
            .into();
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("coffee_test_{}_{count}", std::process::id());
        let database = Self { name, server };
        let mut connection = mysql_async::Conn::new(database.server.clone())
            .await
            .unwrap_or_else(|e| panic!("no MySQL server at {described}: {e}"));
        connection
            .query_drop(format!(
                "CREATE DATABASE `{}` CHARACTER SET utf8mb4",
                database.name
            ))
            .await
            .unwrap();
        connection
            .query_drop(format!("USE `{}`", database.name))
            .await
            .unwrap();
        for file in ["schema.sql", "seed.sql"] {
            let sql = std::fs::read_to_string(workspace_root().join("db").join(file)).unwrap();
            connection
                .query_drop(sql)
                .await
                .unwrap_or_else(|e| panic!("db/{file}: {e}"));
        }
        connection.disconnect().await.unwrap();
        database
    }

    /// Adds `count` more beans (`'Lot <n>'`, 9.50 each) spread over the first eight suppliers.
    pub async fn add_beans(&self, count: usize) {
        let values: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    "({}, 'Arabica', 'Lot {i}', '9.50', 'Bulk lot', {})",
                    1 + i % 8,
                    i % 700
                )
            })
            .collect();
        let mut connection = mysql_async::Conn::new(self.opts()).await.unwrap();
        connection
            .query_drop(format!(
                "INSERT INTO beans (supplier_id, type, product_name, price, description, quantity) VALUES {}",
                values.join(",")
            ))
            .await
            .unwrap();
        connection.disconnect().await.unwrap();
    }

    /// Connection options for this database.
    pub fn opts(&self) -> mysql_async::Opts {
        mysql_async::OptsBuilder::from_opts(self.server.clone())
            .db_name(Some(&self.name))
            .into()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut connection) = mysql_async::Conn::new(server).await {
                    let _ = connection
                        .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                        .await;
                    let _ = connection.disconnect().await;
                }
            });
        })
        .join();
    }
}
