use super::*;
use keygate::key::{mint, Environment};
use keygate::secret::KeySecret;
use regex::Regex;

fn config() -> Config {
    let json = serde_json::json!({
        "products": [
            {"id": "forgeai", "name": "Forge \"AI\"", "prefix": "fai",
             "key": {"header": "Authorization", "scheme": "Bearer"},
             "route": {"path_prefix": "/forgeai"}, "upstream": "https://origin.forge.example"},
            {"id": "sales", "name": "Salesforge", "prefix": "sf",
             "key": {"header": "X-Salesforge-Key"},
             "route": {"path_prefix": "/sales"}, "upstream": "https://origin.sales.example"}
        ]
    });
    Config::from_json(&json.to_string()).unwrap()
}

fn minted(prefix: &str, env: Environment, seed: u8) -> String {
    let secret = KeySecret::new(&"s".repeat(32), None).unwrap();
    let key = mint(prefix, env, &[seed; 32], &secret).unwrap();
    key.key.key().expose().to_owned()
}

fn regexes(text: &str, marker: &str, quote: &str) -> Vec<Regex> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(marker))
        .map(|r| Regex::new(r.trim().trim_matches(|c| quote.contains(c))).unwrap())
        .collect()
}

#[test]
fn every_form_matches_minted_keys_and_not_near_misses() {
    let config = config();
    let gitleaks = regexes(&render(&config, Form::Gitleaks), "regex = ", "'");
    let trufflehog = regexes(&render(&config, Form::Trufflehog), "key: ", "'");
    let github: Vec<Regex> = regexes(&render(&config, Form::Github), "secret format: ", "")
        .into_iter()
        .map(|r| {
            Regex::new(&format!(
                r"(?:\A|[^0-9A-Za-z_])({})(?:\z|[^0-9A-Za-z_])",
                r.as_str()
            ))
            .unwrap()
        })
        .collect();
    for set in [&gitleaks, &trufflehog, &github] {
        assert_eq!(set.len(), 2);
        for (regex, prefix) in set.iter().zip(["fai", "sf"]) {
            for seed in [0u8, 7, 255] {
                for env in [Environment::Live, Environment::Test] {
                    let key = minted(prefix, env, seed);
                    assert!(regex.is_match(&key), "{regex} {key}");
                    assert!(regex.is_match(&format!("token = \"{key}\"\n")));
                    // Near misses: another product, one character short or
                    // long, another environment word, a broken alphabet,
                    // embedded in a longer word.
                    let other = if prefix == "fai" { "sf" } else { "fai" };
                    let body = key.splitn(3, '_').nth(2).unwrap();
                    for miss in [
                        minted(other, env, seed),
                        key[..key.len() - 1].to_owned(),
                        format!("{key}A"),
                        format!("{prefix}_prod_{body}"),
                        format!("{prefix}_live_{}-", &body[..body.len() - 1]),
                        format!("x{key}"),
                        key.to_uppercase(),
                    ] {
                        assert!(!regex.is_match(&miss), "{regex} matched {miss}");
                    }
                }
            }
        }
    }
}

#[test]
fn forms_are_well_formed() {
    let config = config();
    let all = render(&config, Form::All);
    assert!(all.contains("# GitHub") && all.contains("# gitleaks") && all.contains("# trufflehog"));
    // The gitleaks part is TOML, with the product name escaped.
    let gitleaks: toml::Table = toml::from_str(&render(&config, Form::Gitleaks)).unwrap();
    let rules = gitleaks["rules"].as_array().unwrap();
    assert_eq!(rules[0]["id"].as_str(), Some("keygate_fai_key"));
    assert_eq!(
        rules[0]["description"].as_str(),
        Some("Forge \"AI\" API key (keygate)")
    );
    assert_eq!(rules[1]["keywords"].as_array().unwrap().len(), 2);
    // The trufflehog part names each detector.
    let truffle = render(&config, Form::Trufflehog);
    assert!(truffle.starts_with("detectors:\n  - name: keygate_fai_key\n"));
    assert!(render(&config, Form::Github).contains("test string: fai_live_"));
    assert_eq!(Form::parse(None), Ok(Form::All));
    assert_eq!(Form::parse(Some("gitleaks")), Ok(Form::Gitleaks));
    assert!(Form::parse(Some("semgrep")).is_err());
}
