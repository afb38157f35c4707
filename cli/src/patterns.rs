//! `keygate patterns`: each product's key regex in the forms secret
//! scanners take — a GitHub custom pattern, a gitleaks rule (TOML) and a
//! trufflehog custom detector (YAML).
//!
//! Invariant: every form is built from [`keygate::key::scan_regex`], the
//! one definition of a key's shape (prefix, environment, base62 body of
//! random part, tag and checksum), so the scanners find exactly the keys
//! keygate mints; the GitLab/GitHub type name is
//! [`keygate::leak::gitlab::token_type`].

use keygate::config::Config;
use keygate::key::{scan_regex, BODY_CHARS};
use keygate::leak::gitlab::token_type;

/// Which form to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// All three, each under a heading.
    All,
    /// GitHub custom pattern fields.
    Github,
    /// gitleaks `[[rules]]`.
    Gitleaks,
    /// trufflehog `detectors:`.
    Trufflehog,
}

impl Form {
    /// Parses `--format`.
    pub fn parse(name: Option<&str>) -> Result<Form, String> {
        match name {
            None | Some("all") => Ok(Form::All),
            Some("github") => Ok(Form::Github),
            Some("gitleaks") => Ok(Form::Gitleaks),
            Some("trufflehog") => Ok(Form::Trufflehog),
            Some(other) => Err(format!(
                "--format must be all, github, gitleaks or trufflehog, not {other:?}"
            )),
        }
    }
}

/// The secret's own shape, without word boundaries (GitHub takes those
/// as separate "before" and "after" fields).
fn secret_format(prefix: &str) -> String {
    format!("{prefix}_(?:live|test)_[0-9A-Za-z]{{{BODY_CHARS}}}")
}

/// The text `keygate patterns` prints.
pub fn render(config: &Config, form: Form) -> String {
    let mut out = String::new();
    if matches!(form, Form::All | Form::Github) {
        if form == Form::All {
            out.push_str("# GitHub custom patterns (Settings > Code security > Custom patterns)\n");
        }
        for p in &config.products {
            out.push_str(&format!(
                "name: {}\nsecret format: {}\nbefore secret: \\A|[^0-9A-Za-z_]\nafter secret: \\z|[^0-9A-Za-z_]\ntest string: {}_live_{}\n\n",
                token_type(&p.prefix),
                secret_format(&p.prefix),
                p.prefix,
                "0".repeat(BODY_CHARS)
            ));
        }
    }
    if matches!(form, Form::All | Form::Gitleaks) {
        if form == Form::All {
            out.push_str("# gitleaks (.gitleaks.toml)\n");
        }
        for p in &config.products {
            out.push_str(&format!(
                "[[rules]]\nid = \"{}\"\ndescription = \"{} API key (keygate)\"\nregex = '''{}'''\nkeywords = [\"{}_live_\", \"{}_test_\"]\n\n",
                token_type(&p.prefix),
                toml_escape(&p.name),
                scan_regex(Some(&p.prefix)),
                p.prefix,
                p.prefix
            ));
        }
    }
    if matches!(form, Form::All | Form::Trufflehog) {
        if form == Form::All {
            out.push_str("# trufflehog (--config)\n");
        }
        out.push_str("detectors:\n");
        for p in &config.products {
            out.push_str(&format!(
                "  - name: {}\n    keywords:\n      - {}_live_\n      - {}_test_\n    regex:\n      key: '{}'\n",
                token_type(&p.prefix),
                p.prefix,
                p.prefix,
                scan_regex(Some(&p.prefix))
            ));
        }
    }
    out
}

fn toml_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
#[path = "patterns_tests.rs"]
mod tests;
