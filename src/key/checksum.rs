//! The key checksum: CRC32 (IEEE) of everything before it, as 6 base62
//! digits. It catches typos and truncation offline; it is not a MAC.

use super::base62;

/// The checksum digits for `text`.
pub fn checksum(text: &str) -> String {
    base62::encode_fixed(&crc32fast::hash(text.as_bytes()).to_be_bytes(), 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_answer() {
        // CRC32/IEEE("123456789") = 0xCBF43926 = 3421780262 = base62 "3jZRME".
        assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
        assert_eq!(checksum("123456789"), "3jZRME");
        assert_eq!(checksum(""), "000000");
    }
}
