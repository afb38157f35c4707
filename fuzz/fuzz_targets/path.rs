//! libFuzzer entry point for [`keygate_fuzz::path`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keygate_fuzz::path(data));
