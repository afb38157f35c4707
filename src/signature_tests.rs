use super::*;

pub(crate) const SECRET: &str = "keygate-test-origin-secret-0123456789";

fn sample() -> Signed<'static> {
    Signed {
        timestamp: 1_795_416_000,
        method: "POST",
        path_and_query: "/v1/leads?page=2",
        key_id: "key_demo1",
        account: "acct_demo",
        product: "salesforge",
        environment: "live",
        scopes: "read write",
    }
}

/// Known answers computed independently with Python's `hmac` module; README
/// shows the first one.
#[test]
fn known_answer_vectors() {
    let secret = OriginSecret::new(SECRET).unwrap();
    assert_eq!(
        sample().sign(&secret),
        "t=1795416000,v1=8bf4a6652cea709d82e413c1a8dd1cd769c78bd3b567ccb5c8d1280cc9f2e499"
    );
    let public = Signed {
        method: "GET",
        path_and_query: "/health",
        key_id: "",
        account: "",
        environment: "",
        scopes: "",
        ..sample()
    };
    assert_eq!(
        public.sign(&secret),
        "t=1795416000,v1=98c3aba816bf4788b05fe1035e8b9ce823a12977036cae112af9c763288329bc"
    );
}

#[test]
fn verify_accepts_fresh_and_rejects_tampering() {
    let secret = OriginSecret::new(SECRET).unwrap();
    let header = sample().sign(&secret);
    let now = sample().timestamp + 10;
    assert_eq!(verify(&secret, &header, sample(), now, 300), Ok(()));
    let tampered = Signed {
        account: "acct_other",
        ..sample()
    };
    assert_eq!(
        verify(&secret, &header, tampered, now, 300),
        Err(VerifyError::Mismatch)
    );
    let other_path = Signed {
        path_and_query: "/v1/leads?page=3",
        ..sample()
    };
    assert_eq!(
        verify(&secret, &header, other_path, now, 300),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify(&secret, &header, sample(), now + 600, 300),
        Err(VerifyError::Stale)
    );
    let other_secret = OriginSecret::new("another-secret-that-is-long-enough-000").unwrap();
    assert_eq!(
        verify(&other_secret, &header, sample(), now, 300),
        Err(VerifyError::Mismatch)
    );
    for bad in ["", "t=1", "v1=ab,t=1", "t=x,v1=00"] {
        assert_eq!(
            verify(&secret, bad, sample(), now, 300),
            Err(VerifyError::Malformed),
            "{bad}"
        );
    }
}
