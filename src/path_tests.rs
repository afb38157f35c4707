use super::*;

fn c(raw: &str) -> Result<String, PathError> {
    canonicalize(raw).map(|p| p.as_str().to_owned())
}

#[test]
fn canonical_forms() {
    let table = [
        ("/", "/"),
        ("/a", "/a"),
        ("/a/", "/a/"),
        ("/api/v1/%6Cogs/x", "/api/v1/logs/x"),
        ("/api/v1/%6cogs/x", "/api/v1/logs/x"),
        ("/%41%7A%30%2D%2E%5F%7E", "/Az0-._~"),
        ("/a%3ab", "/a%3Ab"),
        ("/files/my%20doc.pdf", "/files/my%20doc.pdf"),
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/a/%2e%2E/b", "/b"),
        ("/a/.%2e/b", "/b"),
        ("/../../a", "/a"),
        ("/a/b/..", "/a/"),
        ("/a/.", "/a/"),
        ("/..", "/"),
        ("/docs/../admin/users", "/admin/users"),
        ("/send;x", "/send;x"),
        ("/100%25", "/100%25"),
        ("/v1/send.json", "/v1/send.json"),
        ("/Deployments/d1", "/Deployments/d1"),
    ];
    for (raw, want) in table {
        assert_eq!(c(raw), Ok(want.to_owned()), "{raw}");
        // Idempotent.
        assert_eq!(c(want), Ok(want.to_owned()), "twice: {want}");
    }
}

#[test]
fn refusals_name_what_is_wrong() {
    let table = [
        ("", PathError::NotAbsolute),
        ("a/b", PathError::NotAbsolute),
        ("/a//b", PathError::EmptySegment),
        ("//a", PathError::EmptySegment),
        ("//", PathError::EmptySegment),
        ("/docs/..%2fadmin%2fusers", PathError::EncodedSlash),
        ("/a%2Fb", PathError::EncodedSlash),
        ("/a%5Cb", PathError::Backslash),
        ("/a\\b", PathError::Backslash),
        ("/a%00", PathError::ControlCharacter),
        ("/a%0a", PathError::ControlCharacter),
        ("/a%7F", PathError::ControlCharacter),
        ("/a%C2%85", PathError::ControlCharacter),
        ("/a%", PathError::BadEscape),
        ("/a%4", PathError::BadEscape),
        ("/a%zz", PathError::BadEscape),
        ("/send.", PathError::TrailingDotOrSpace),
        ("/send%2E", PathError::TrailingDotOrSpace),
        ("/send%20", PathError::TrailingDotOrSpace),
        ("/send%20/x", PathError::TrailingDotOrSpace),
        ("/.../x", PathError::TrailingDotOrSpace),
        ("/a%ff", PathError::NotUtf8),
        ("/a%C3", PathError::NotUtf8),
        ("/public/..;/admin", PathError::TrailingDotOrSpace),
        ("/public/..%3B/admin", PathError::TrailingDotOrSpace),
        ("/public/.;x/admin", PathError::TrailingDotOrSpace),
        ("/a/;x/b", PathError::EmptySegment),
        ("/a%ED%A0%80", PathError::NotUtf8),
    ];
    for (raw, want) in table {
        assert_eq!(c(raw), Err(want), "{raw}");
        assert!(!want.reason().is_empty());
    }
    let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
    assert_eq!(c(&long), Err(PathError::TooLong));
}

/// Found by the path fuzz target (issue 25's run): a path under the bound
/// whose spaces escape to `%20` came out over it, and so did not
/// canonicalise again. The canonical form is bounded too.
#[test]
fn the_canonical_form_is_bounded_too() {
    let spaced = format!("/a{}b", " ".repeat(3000));
    assert!(spaced.len() <= MAX_PATH_BYTES);
    assert_eq!(c(&spaced), Err(PathError::TooLong));
    // At the bound exactly, it is kept, and is a fixed point.
    let at_bound = format!("/a{}b", " ".repeat((MAX_PATH_BYTES - 3) / 3));
    let canonical = c(&at_bound).unwrap();
    assert!(canonical.len() <= MAX_PATH_BYTES);
    assert_eq!(c(&canonical), Ok(canonical.clone()));
    let fits = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
    assert_eq!(c(&fits).map(|p| p.len()), Ok(MAX_PATH_BYTES));
}

#[test]
fn path_parameters_are_visible() {
    assert!(has_path_params("/a;b/c"));
    assert!(has_path_params("/a%3bb/c"));
    assert_eq!(params_start("/ab%3Bc;d"), Some(3));
    assert!(!has_path_params("/a/c"));
}

#[test]
fn hosts() {
    for (raw, want) in [
        ("Keys.Test.", "keys.test"),
        ("keys.test.:8787", "keys.test"),
        ("API.FORGE.AI:443", "api.forge.ai"),
        ("[::1]:8787", "[::1]"),
        ("127.0.0.1", "127.0.0.1"),
        ("keys.test..", "keys.test"),
    ] {
        assert_eq!(canonical_host(raw), want, "{raw}");
    }
}

#[test]
fn url_splitting() {
    let table = [
        (
            "http://127.0.0.1:8787/a/b?x=1&y",
            ("127.0.0.1:8787", "/a/b", Some("x=1&y")),
        ),
        ("https://h/", ("h", "/", None)),
        ("https://h", ("h", "", None)),
        ("https://h?q", ("h", "", Some("q"))),
        ("https://h/a?", ("h", "/a", Some(""))),
        ("https://h/a#frag?x", ("h", "/a", None)),
        ("https://u@h/a", ("h", "/a", None)),
        ("http://[::1]:80/p", ("[::1]:80", "/p", None)),
    ];
    for (url, (authority, path, query)) in table {
        assert_eq!(
            split_url(url),
            UrlParts {
                authority,
                path,
                query
            },
            "{url}"
        );
    }
}
