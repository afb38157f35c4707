//! libFuzzer entry point for [`keygate_fuzz::portal_grant`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keygate_fuzz::portal_grant(data));
