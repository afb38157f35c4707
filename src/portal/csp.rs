//! The portal page's response headers: a strict Content-Security-Policy
//! and its companions.
//!
//! Invariants: no script runs but the page's own, marked with a nonce
//! that is new for every response; nothing is fetched from another origin
//! but the configured logo's images; the page can be framed only by the
//! configured `frame_ancestors` (none by default).

/// The headers of an HTML page carrying `nonce`. `logo_origins` are the
/// origins of configured logos (`https://cdn.example`), `frame_ancestors`
/// the configured origins allowed to embed the page.
pub fn page_headers(
    nonce: &str,
    logo_origins: &[String],
    frame_ancestors: &[String],
) -> Vec<(&'static str, String)> {
    let mut img = String::from("'self' data:");
    for origin in logo_origins {
        img.push(' ');
        img.push_str(origin);
    }
    let ancestors = if frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        frame_ancestors.join(" ")
    };
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; \
         style-src 'self' 'nonce-{nonce}'; img-src {img}; connect-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    );
    let mut headers = vec![
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff".to_owned()),
        ("Referrer-Policy", "no-referrer".to_owned()),
        ("Cache-Control", "no-store".to_owned()),
        ("Cross-Origin-Opener-Policy", "same-origin".to_owned()),
    ];
    if frame_ancestors.is_empty() {
        headers.push(("X-Frame-Options", "DENY".to_owned()));
    }
    headers
}

/// A nonce from 16 random bytes: base64, as CSP takes it.
pub fn nonce(random: [u8; 16]) -> String {
    crate::secret::base64(&random)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csp(headers: &[(&'static str, String)]) -> String {
        headers
            .iter()
            .find(|(n, _)| *n == "Content-Security-Policy")
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    #[test]
    fn scripts_need_the_nonce_and_framing_is_denied_by_default() {
        let headers = page_headers("abc", &[], &[]);
        let policy = csp(&headers);
        assert!(policy.contains("script-src 'nonce-abc'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("unsafe-eval"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("default-src 'none'"));
        assert!(headers
            .iter()
            .any(|(n, v)| *n == "X-Frame-Options" && v == "DENY"));
        assert!(headers
            .iter()
            .any(|(n, v)| *n == "Cache-Control" && v == "no-store"));
    }

    #[test]
    fn configured_ancestors_and_logos_are_listed() {
        let headers = page_headers(
            "n",
            &["https://cdn.example".to_owned()],
            &[
                "https://app.example".to_owned(),
                "https://admin.example".to_owned(),
            ],
        );
        let policy = csp(&headers);
        assert!(policy.contains("frame-ancestors https://app.example https://admin.example"));
        assert!(policy.contains("img-src 'self' data: https://cdn.example"));
        assert!(!headers.iter().any(|(n, _)| *n == "X-Frame-Options"));
    }

    #[test]
    fn nonces_are_base64_of_sixteen_bytes() {
        assert_eq!(nonce([0; 16]).len(), 24);
        assert_ne!(nonce([1; 16]), nonce([2; 16]));
    }
}
