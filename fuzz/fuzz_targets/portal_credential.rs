//! libFuzzer entry point for [`keygate_fuzz::portal_credential`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keygate_fuzz::portal_credential(data));
