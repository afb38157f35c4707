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

/// Issue 18 (Low 4): each spelling an NFKC-folding, best-fit or
/// double-decoding origin routes to `/admin/users` is refused, naming why.
#[test]
fn spellings_that_fold_or_decode_twice_are_refused() {
    let table = [
        (
            "/x/%EF%BC%8E%EF%BC%8E/admin/users",
            PathError::FoldsUnderNfkc,
        ), // ．．
        ("/%EF%BD%81dmin/users", PathError::FoldsUnderNfkc), // ａdmin
        ("/admin%EF%BC%8Fusers", PathError::FoldsUnderNfkc), // ／
        ("/admin%C2%A0/users", PathError::FoldsUnderNfkc),   // NBSP
        ("/admin%E3%80%80/users", PathError::FoldsUnderNfkc), // ideographic space
        ("/admin%E2%80%8B/users", PathError::FoldsUnderNfkc), // zero-width space
        ("/admin/users%C2%A0", PathError::FoldsUnderNfkc),
        ("/admin/users%E3%80%80", PathError::FoldsUnderNfkc),
        ("/admin/users%E2%80%8B", PathError::FoldsUnderNfkc),
        ("/ad%EF%AC%81n", PathError::FoldsUnderNfkc), // ﬁ ligature
        ("/%E2%84%AAey", PathError::FoldsUnderNfkc),  // Kelvin sign
        ("/log%C5%BF", PathError::FoldsUnderNfkc),    // long s
        ("/%C2%B9", PathError::FoldsUnderNfkc),       // superscript one
        ("/%E2%80%AEnimda", PathError::FoldsUnderNfkc), // right-to-left override
        ("/a%EF%BB%BF", PathError::FoldsUnderNfkc),   // BOM
        ("/e%CC%81", PathError::FoldsUnderNfkc),      // e + combining acute composes
        ("/%E1%84%80%E1%85%A1", PathError::FoldsUnderNfkc), // Hangul jamo compose
        ("/%F0%B1%8D%90", PathError::FoldsUnderNfkc), // unassigned in Unicode 14
        ("/%2561dmin/users", PathError::DoubleEncoded),
        ("/%252e%252e/admin", PathError::DoubleEncoded),
        ("/admin%252Fusers", PathError::DoubleEncoded),
        ("/a%25%36%31", PathError::DoubleEncoded), // the escape spelled with escapes
    ];
    for (raw, want) in table {
        assert_eq!(c(raw), Err(want), "{raw}");
        assert!(!want.reason().is_empty());
    }
    // Ordinary non-ASCII text, and a `%` that escapes nothing, pass.
    for (raw, want) in [
        ("/caf%C3%A9", "/caf%C3%A9"),
        ("/%E6%97%A5%E6%9C%AC", "/%E6%97%A5%E6%9C%AC"), // 日本
        ("/%D0%BF%D1%83%D1%82%D1%8C", "/%D0%BF%D1%83%D1%82%D1%8C"), // путь
        ("/%E0%A4%95%E0%A4%BF", "/%E0%A4%95%E0%A4%BF"), // कि: one mark
        ("/100%25", "/100%25"),
        ("/100%25x", "/100%25x"),
    ] {
        assert_eq!(c(raw), Ok(want.to_owned()), "{raw}");
    }
    // a + combining acute: NFKC composes it.
    assert_eq!(c("/a%CC%81"), Err(PathError::FoldsUnderNfkc));
}

/// The tables are a sound superset of "NFKC changes it", checked against
/// ICU4X's full normaliser (whose Unicode is newer than the tables'):
/// every non-ASCII code point the rule admits is unchanged by NFKC, alone,
/// after a letter and after an admitted mark.
#[test]
fn admitted_code_points_never_change_under_nfkc() {
    let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
    let mut admitted = 0;
    let marks: Vec<char> = (0x80..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter(|&c| !folds(&c.to_string()) && in_table(&crate::path_fold::COMBINING, c))
        .collect();
    for c in (0x80..=0x10FFFFu32).filter_map(char::from_u32) {
        let alone = c.to_string();
        if folds(&alone) {
            continue;
        }
        admitted += 1;
        for text in [alone.clone(), format!("a{c}"), format!("{c}a")] {
            assert!(!folds(&text), "U+{:04X}", c as u32);
            assert!(nfkc.is_normalized(&text), "U+{:04X} in {text:?}", c as u32);
        }
        if let Some(&mark) = marks.first() {
            let pair = format!("{c}{mark}");
            if !folds(&pair) {
                assert!(nfkc.is_normalized(&pair), "U+{:04X} + mark", c as u32);
            }
        }
    }
    // Most of Unicode is still admitted (CJK, Cyrillic, Devanagari...).
    assert!(admitted > 200_000, "{admitted}");
    // Two marks in a row are refused: normalisation may reorder them.
    assert!(marks.len() > 100);
    let two = format!("a{}{}", '\u{0316}', '\u{0300}');
    assert!(folds(&two));
    assert!(!nfkc.is_normalized("a\u{0301}\u{0316}"));
}
