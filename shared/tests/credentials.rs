//! Where `clients::aws_config` takes its region and credentials from: the environment when Lambda
//! (or the local stack) sets them, else the SDK's default chains (a profile here), else us-east-1.
//! A test binary of its own because it changes the process's environment.

use aws_credential_types::provider::ProvideCredentials;
use cafe_shared::clients;

async fn region_and_key() -> (String, String) {
    let config = clients::aws_config().await;
    let credentials = config
        .credentials_provider()
        .expect("a credentials provider")
        .provide_credentials()
        .await
        .expect("credentials");
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    (region, credentials.access_key_id().to_owned())
}

#[tokio::test]
async fn the_environment_wins_then_the_profile_then_us_east_1() {
    let dir = std::env::temp_dir().join(format!("cafe-credentials-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config"),
        "[profile cafe]\nregion = eu-west-1\n\n[profile no-region]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("credentials"),
        "[cafe]\naws_access_key_id = FROMPROFILE\naws_secret_access_key = secret\n\n\
         [no-region]\naws_access_key_id = NOREGION\naws_secret_access_key = secret\n",
    )
    .unwrap();
    // SAFETY: this binary's only test, and nothing else runs while it sets variables.
    unsafe {
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ] {
            std::env::remove_var(name);
        }
        std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_PROFILE", "cafe");
    }
    assert_eq!(
        region_and_key().await,
        ("eu-west-1".into(), "FROMPROFILE".into())
    );

    // A blank key in the environment is no key, as for the SDK's own chain.
    unsafe {
        std::env::set_var("AWS_PROFILE", "no-region");
        std::env::set_var("AWS_ACCESS_KEY_ID", "");
    }
    assert_eq!(
        region_and_key().await,
        ("us-east-1".into(), "NOREGION".into())
    );

    // As on Lambda: the environment is used even though a profile is named.
    unsafe {
        std::env::set_var("AWS_PROFILE", "cafe");
        std::env::set_var("AWS_REGION", "ap-south-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "FROMENVIRONMENT");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    }
    assert_eq!(
        region_and_key().await,
        ("ap-south-1".into(), "FROMENVIRONMENT".into())
    );
    std::fs::remove_dir_all(&dir).ok();
}
