//! libFuzzer entry point for [`keygate_fuzz::page_body`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keygate_fuzz::page_body(data));
