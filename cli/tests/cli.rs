//! The `keygate` binary's parser: every command answers `--help`, refuses
//! an unknown flag with a usage error (exit 2) and prints completions.

use std::process::{Command, Output};

fn keygate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keygate"))
        .args(args)
        .env_remove("KEYGATE_URL")
        .env_remove("KEYGATE_ADMIN_TOKEN")
        .output()
        .expect("keygate runs")
}

const COMMANDS: &[&[&str]] = &[
    &[],
    &["check"],
    &["render"],
    &["mint"],
    &["origin-key"],
    &["patterns"],
    &["keys"],
    &["keys", "create"],
    &["keys", "list"],
    &["keys", "get"],
    &["keys", "update"],
    &["keys", "rotate"],
    &["keys", "revoke"],
    &["keys", "lookup"],
    &["accounts"],
    &["accounts", "get"],
    &["accounts", "suspend"],
    &["accounts", "reactivate"],
    &["events"],
    &["completions"],
];

#[test]
fn every_command_has_help() {
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let out = keygate(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: keygate"), "{args:?}: {text}");
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--no-such-flag");
        let out = keygate(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("--no-such-flag"), "{args:?}: {text}");
    }
    // A secret is never a flag.
    let out = keygate(&["keys", "list", "--account", "a", "--token", "t"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = keygate(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("origin-key"), "{shell}");
    }
    assert_eq!(keygate(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn old_flags_still_work() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../wrangler.toml");
    let out = keygate(&["check", "--config", root, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["gateway"], "keygate");
    let out = keygate(&["patterns", "--config", root, "--format", "gitleaks"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        keygate(&["patterns", "--config", root, "--format", "nope"])
            .status
            .code(),
        Some(2)
    );
}
