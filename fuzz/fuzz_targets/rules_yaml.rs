#![no_main]
//! See fuzz/README.md and `obsgate_fuzz::rules_yaml`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = obsgate_fuzz::rules_yaml(text);
    }
});
