//! Envelope encryption against KMS in LocalStack: what the roster import stores can be
//! opened with the record's own key, and nothing else opens it.

use yunzhao_adapters::crypto::{Envelope, SealError};

async fn envelope() -> Envelope {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let key_id = std::env::var("DATA_KEY_ID").expect("DATA_KEY_ID from the local stack (run `make test`)");
    Envelope::new(aws_sdk_kms::Client::new(&sdk), key_id)
}

#[tokio::test]
async fn sealed_values_open_only_with_their_context_and_untampered() {
    let envelope = envelope().await;
    let id = "11010519491231002X";
    let sealed = envelope.seal(id.as_bytes(), "CAMPAIGN#c1|ENTRY#e1").await.expect("seal");
    assert!(!sealed.contains(id));
    assert_ne!(sealed, envelope.seal(id.as_bytes(), "CAMPAIGN#c1|ENTRY#e1").await.expect("seal"), "nonces must differ");

    // A fresh container (no cached keys) unwraps the data key through KMS.
    let other_container = self::envelope().await;
    assert_eq!(other_container.open(&sealed, "CAMPAIGN#c1|ENTRY#e1").await.expect("open"), id.as_bytes());

    assert!(
        matches!(envelope.open(&sealed, "CAMPAIGN#c1|ENTRY#e2").await, Err(SealError::Corrupt)),
        "moved to another record"
    );
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert!(matches!(envelope.open(&tampered, "CAMPAIGN#c1|ENTRY#e1").await, Err(SealError::Corrupt)));
    assert!(matches!(envelope.open("v1.garbage", "x").await, Err(SealError::Corrupt)));
}
