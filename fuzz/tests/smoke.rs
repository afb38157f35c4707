//! The fuzz targets' smoke run, part of `cargo test` (and so `make test`):
//! every seed of `fuzz/corpus/<target>` and a fixed number of
//! deterministic mutations of them (dictionary tokens included) through
//! every target. It needs no fuzzing engine and no nightly; `make fuzz`
//! does the long, coverage-guided run. `KEYGATE_FUZZ_SMOKE_RUNS` sets the
//! mutations per target (default 3000).

// Test code: clippy.toml allows these in #[test] functions; the helpers
// below are test code too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use keygate_fuzz::{Target, TARGETS};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Tokens of a libFuzzer dictionary: `"..."` lines with `\xNN`, `\"` and
/// `\\` escapes.
fn dictionary(target: &str) -> Vec<Vec<u8>> {
    let path = fuzz_dir().join("dict").join(format!("{target}.dict"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix('"')?.strip_suffix('"'))
        .map(|quoted| {
            let mut out = Vec::new();
            let mut bytes = quoted.bytes();
            while let Some(b) = bytes.next() {
                if b != b'\\' {
                    out.push(b);
                    continue;
                }
                match bytes.next() {
                    Some(b'x') => {
                        let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                        let hex = std::str::from_utf8(&hex).unwrap();
                        out.push(u8::from_str_radix(hex, 16).unwrap());
                    }
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            out
        })
        .collect()
}

/// xorshift64*: deterministic, so a failure reproduces exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>], dict: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = rng.next() as u8;
            }
            2 if !dict.is_empty() => {
                let token = &dict[rng.below(dict.len())];
                input.splice(at..at, token.iter().copied());
            }
            3 if !input.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let to = from + rng.below(other.len() - from + 1);
                input.splice(at..at, other[from..to].iter().copied());
            }
            5 => input.truncate(at),
            _ => {
                let end = (at + rng.below(16)).min(input.len());
                let copy = input[at..end].to_vec();
                input.splice(end..end, copy);
            }
        }
    }
}

fn run(name: &str, target: Target, input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let dir = fuzz_dir().join("..").join("target").join("fuzz-smoke");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("crash-{name}"));
        std::fs::write(&file, input).unwrap();
        panic!(
            "target {name} broke an invariant on {input:?}; input saved to {} \
             (replay: scripts/fuzz.sh {name} {})",
            file.display(),
            file.display()
        );
    }
}

fn smoke(name: &str, target: Target) {
    let seeds = seeds(name);
    let dict = dictionary(name);
    assert!(
        !seeds.is_empty() && !dict.is_empty(),
        "{name} has seeds and a dictionary"
    );
    for seed in &seeds {
        run(name, target, seed);
    }
    let runs: usize = std::env::var("KEYGATE_FUZZ_SMOKE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    for i in 0..runs {
        let mut input = seeds[i % seeds.len()].clone();
        mutate(&mut rng, &mut input, &seeds, &dict);
        run(name, target, &input);
    }
}

fn target(name: &str) -> Target {
    TARGETS.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn every_target_has_seeds_dictionary_and_binary() {
    for (name, _) in TARGETS {
        assert!(fuzz_dir().join("corpus").join(name).is_dir(), "{name}");
        assert!(
            fuzz_dir()
                .join("dict")
                .join(format!("{name}.dict"))
                .is_file(),
            "{name}"
        );
        let bin = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(Path::new(&bin).is_file(), "{name}");
    }
}

#[test]
fn smoke_key() {
    smoke("key", target("key"));
}

#[test]
fn smoke_credential() {
    smoke("credential", target("credential"));
}

#[test]
fn smoke_path() {
    smoke("path", target("path"));
}

#[test]
fn smoke_config() {
    smoke("config", target("config"));
}

#[test]
fn smoke_manage_request() {
    smoke("manage_request", target("manage_request"));
}

#[test]
fn smoke_manage_body() {
    smoke("manage_body", target("manage_body"));
}

#[test]
fn smoke_webhook() {
    smoke("webhook", target("webhook"));
}

#[test]
fn smoke_leak() {
    smoke("leak", target("leak"));
}

#[test]
fn smoke_page_body() {
    smoke("page_body", target("page_body"));
}

#[test]
fn smoke_portal_grant() {
    smoke("portal_grant", target("portal_grant"));
}

#[test]
fn smoke_portal_credential() {
    smoke("portal_credential", target("portal_credential"));
}

#[test]
fn smoke_github_signature() {
    smoke("github_signature", target("github_signature"));
}

#[test]
fn smoke_limits() {
    smoke("limits", target("limits"));
}
