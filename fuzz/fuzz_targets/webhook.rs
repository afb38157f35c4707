//! libFuzzer entry point for [`keygate_fuzz::webhook`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keygate_fuzz::webhook(data));
