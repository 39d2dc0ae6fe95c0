//! A warm reader across password rotations, against a real MariaDB/MySQL server and the
//! emulator's Secrets Manager, in the order Secrets Manager's rotation works: the database gets
//! the new password (`setSecret`, the secret's `AWSPENDING` version) before the secret's
//! `AWSCURRENT` moves to it (`finishSecret`). The same reader object reads throughout: no restart.

use std::time::Duration;

use cafe_tests::{Moto, TestDatabase, unreachable_sdk_config};
use inventory_reader::connection::{
    DatabaseSecret, DatabaseSettings, DatabaseTls, DeployedDatabase,
};
use inventory_reader::database::Database;
use inventory_reader::{InventoryReader, ReadError};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};

/// The server's root connection (DATABASE_URL's server, else the local MariaDB).
async fn root(database: &TestDatabase) -> Conn {
    Conn::new(database.opts()).await.unwrap()
}

/// Ends every connection `user` has open, as the server does to idle ones after `wait_timeout`:
/// pooled connections outlive a password change, so the next read must log in again.
async fn disconnect(root: &mut Conn, user: &str) {
    let ids: Vec<u64> = root
        .exec(
            "SELECT id FROM information_schema.processlist WHERE user = ?",
            (user,),
        )
        .await
        .unwrap();
    for id in ids {
        let _ = root.query_drop(format!("KILL {id}")).await;
    }
}

async fn set_password(root: &mut Conn, user: &str, password: &str) {
    root.query_drop(format!(
        "ALTER USER '{user}'@'%' IDENTIFIED BY '{password}'"
    ))
    .await
    .unwrap();
}

fn secret_json(password: &str) -> String {
    serde_json::json!({"username": "reader", "password": password}).to_string()
}

#[tokio::test]
async fn a_warm_reader_follows_each_rotation_and_reports_a_password_the_secret_does_not_hold() {
    let database = TestDatabase::create().await;
    let server: Opts = database.opts();
    let user = format!("rotation_{}", std::process::id());
    let mut root = root(&database).await;
    root.query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
        .await
        .unwrap();
    root.query_drop(format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'first-password'"
    ))
    .await
    .unwrap();
    for table in ["suppliers", "beans"] {
        root.query_drop(format!(
            "GRANT SELECT ON `{}`.`{table}` TO '{user}'@'%'",
            database.name
        ))
        .await
        .unwrap();
    }

    let emulator = Moto::start();
    let secrets = aws_sdk_secretsmanager::Client::new(&emulator.sdk_config());
    let created = secrets
        .create_secret()
        .name("cafe/reader")
        .secret_string(secret_json("first-password"))
        .send()
        .await
        .unwrap();
    let secret = DatabaseSecret {
        client: secrets.clone(),
        arn: created.arn().unwrap().to_owned(),
    };
    let deployed = DeployedDatabase {
        host: server.ip_or_hostname().to_owned(),
        port: server.tcp_port(),
        user: user.clone(),
        password: "first-password".into(),
        name: database.name.clone(),
        tls: DatabaseTls::Disabled,
    };
    // A TTL longer than the test: every new password is found through a refused login.
    let reader = InventoryReader::new(
        Database::new(
            DatabaseSettings::Deployed(deployed, secret),
            Duration::from_secs(3600),
        ),
        aws_sdk_s3::Client::new(&unreachable_sdk_config()),
        "cafe-reports",
        Duration::from_secs(5),
        Duration::from_secs(10),
    );
    assert_eq!(reader.read().await.unwrap().totals.suppliers, 9);

    // Rotation, setSecret done: AWSPENDING holds the new password, the database has it,
    // AWSCURRENT still holds the old one.
    let pending = secrets
        .put_secret_value()
        .secret_id("cafe/reader")
        .secret_string(secret_json("second-password"))
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    set_password(&mut root, &user, "second-password").await;
    disconnect(&mut root, &user).await;
    assert_eq!(
        reader.read().await.unwrap().totals.suppliers,
        9,
        "in the rotation's window"
    );

    // finishSecret: AWSCURRENT moves to the new version.
    secrets
        .update_secret_version_stage()
        .secret_id("cafe/reader")
        .version_stage("AWSCURRENT")
        .move_to_version_id(pending.version_id().unwrap())
        .remove_from_version_id(created.version_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reader.read().await.unwrap().totals.suppliers, 9);

    // The next rotation, seen only once it has finished. (Rotation's own calls: moto, unlike
    // AWS, leaves AWSCURRENT on the old version too when PutSecretValue stages a new one so.)
    set_password(&mut root, &user, "third-password").await;
    let third = secrets
        .put_secret_value()
        .secret_id("cafe/reader")
        .secret_string(secret_json("third-password"))
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    secrets
        .update_secret_version_stage()
        .secret_id("cafe/reader")
        .version_stage("AWSCURRENT")
        .move_to_version_id(third.version_id().unwrap())
        .remove_from_version_id(pending.version_id().unwrap())
        .send()
        .await
        .unwrap();
    disconnect(&mut root, &user).await;
    assert_eq!(
        reader.read().await.unwrap().totals.suppliers,
        9,
        "after a finished rotation"
    );

    // A password nobody put in the secret: refused once more after reading it again, and said.
    set_password(&mut root, &user, "not-in-the-secret").await;
    disconnect(&mut root, &user).await;
    let refused = reader.read().await.unwrap_err();
    assert!(
        matches!(refused, ReadError::DatabaseAccessDenied(_)),
        "{refused}"
    );

    root.query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
        .await
        .unwrap();
}

/// `db/reader_user.py` (`make db-reader-user`) against the real server: the user it makes reads
/// the inventory and may do nothing else, and its password is only in what it prints.
#[tokio::test]
async fn the_reader_user_may_select_the_two_tables_and_nothing_else() {
    let database = TestDatabase::create().await;
    let server: Opts = database.opts();
    let user = format!("reader_{}", std::process::id());
    let url = format!(
        "mysql://{}@{}:{}/{}",
        server.user().unwrap_or("root"),
        server.ip_or_hostname(),
        server.tcp_port(),
        database.name
    );
    let script = cafe_tests::workspace_root().join("db/reader_user.py");
    let run = || {
        std::process::Command::new("python3")
            .arg(&script)
            .args([url.as_str(), "--user", user.as_str()])
            .output()
            .unwrap()
    };
    let created = run();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let secret: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(secret["username"], user.as_str());
    let password = secret["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 32);

    let as_reader = mysql_async::OptsBuilder::from_opts(server.clone())
        .user(Some(user.clone()))
        .pass(Some(password.clone()));
    let reader = InventoryReader::new(
        mysql_async::Pool::new(as_reader.clone()),
        aws_sdk_s3::Client::new(&unreachable_sdk_config()),
        "cafe-reports",
        Duration::from_secs(5),
        Duration::from_secs(10),
    );
    assert_eq!(reader.read().await.unwrap().totals.beans, 16);
    let mut connection = Conn::new(as_reader).await.unwrap();
    for forbidden in [
        "INSERT INTO suppliers (name) VALUES ('x')",
        "UPDATE beans SET quantity = 0",
        "DELETE FROM beans",
        "CREATE TABLE t (i INT)",
        "SELECT * FROM mysql.user",
    ] {
        let refused = connection.query_drop(forbidden).await.unwrap_err();
        assert!(
            matches!(&refused, mysql_async::Error::Server(e) if [1142, 1044].contains(&e.code)),
            "{forbidden}: {refused}"
        );
    }
    drop(connection);

    // Run again, it resets the password: the old one no longer logs in.
    let again = run();
    assert!(again.status.success());
    let second: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_ne!(second["password"].as_str().unwrap(), password);

    root(&database)
        .await
        .query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
        .await
        .unwrap();
}
