//! libFuzzer entry point for [`keygate_fuzz::github_signature`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keygate_fuzz::github_signature(data));
