//! `keygate reference`: docs/cli.md, written from the parser itself.
//!
//! Pure: the page is a function of the clap command tree, so the drift
//! test (`cli/tests/docs.rs`) can regenerate it and compare it with the
//! checked-in file. Hidden commands are left out; help is not wrapped to a
//! terminal and shows no environment values, so the page is the same on
//! every machine.

use std::fmt::Write as _;

use clap::Command;

/// The whole reference page, in Markdown.
pub fn markdown(mut root: Command) -> String {
    root.build();
    let mut out = String::new();
    out.push_str(
        "# The keygate CLI\n\n\
         Every command and flag of `keygate`, the operator's native tool \
         (`cargo install --path cli`, or `cargo run -p keygate-cli --`): \
         checking and rendering the configuration, test fixtures, origin \
         keys, scanner patterns, the management API from the shell and \
         shell completions. This page is generated from the parser \
         (`make cli-docs`, which runs `keygate reference`); the docs drift \
         test fails when it is out of date. Exit codes: 0 success, 1 a \
         refusal or failure (the management API's `code` and `detail` on \
         stderr), 2 a usage error or a missing token or URL, 3 an \
         unreachable management API.\n\n\
         The admin token is read only from `KEYGATE_ADMIN_TOKEN`, the key \
         secret from `KEYGATE_KEY_SECRET` and the origin secret from \
         `KEYGATE_ORIGIN_SECRET`: never from a flag, so they stay out of \
         shell history and process lists.\n\n\
         Shell completions: `keygate completions bash > \
         ~/.local/share/bash-completion/completions/keygate` (or `zsh`, \
         `fish`, `elvish`, `powershell`).\n",
    );
    section(&mut out, &root, "keygate", 2);
    out
}

fn section(out: &mut String, command: &Command, path: &str, level: usize) {
    let _ = write!(out, "\n{} `{path}`\n\n```text\n", "#".repeat(level.min(6)));
    let help = command.clone().render_long_help().to_string();
    for line in help.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("```\n");
    for sub in command.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        section(out, sub, &format!("{path} {}", sub.get_name()), level + 1);
    }
}
