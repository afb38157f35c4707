//! The gateway's one-line request log, as JSON, built by hand.
//!
//! Pure. One pre-sized `String`, written member by member: no
//! `serde_json::Value`, no map, no float formatting, so the line costs a
//! few hundred nanoseconds and the edge makes one console call with it.
//! Invariants: the output is always one valid JSON object on one line
//! (strings are escaped, control characters as `\u00XX`); callers pass
//! only what may be logged: never a key, token, secret or query string.

/// A JSON object under construction.
pub struct Line {
    out: String,
}

impl Line {
    /// An empty object, with room for a typical request line.
    pub fn new() -> Self {
        let mut out = String::with_capacity(320);
        out.push('{');
        Line { out }
    }

    fn key(&mut self, name: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    /// `"name":"value"`, escaped.
    pub fn str(mut self, name: &str, value: &str) -> Self {
        self.key(name);
        escape_into(&mut self.out, value);
        self
    }

    /// `"name":"value"`, or `"name":null`.
    pub fn opt_str(mut self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.str(name, value),
            None => {
                self.key(name);
                self.out.push_str("null");
                self
            }
        }
    }

    /// `"name":123`.
    pub fn num(mut self, name: &str, value: u64) -> Self {
        self.key(name);
        push_u64(&mut self.out, value);
        self
    }

    /// `"name":true` or `false`.
    pub fn bool(mut self, name: &str, value: bool) -> Self {
        self.key(name);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// The finished object.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

/// Milliseconds between two clock readings, as a whole non-negative number
/// (the Workers clock has millisecond resolution).
pub fn elapsed_ms(started: f64, now: f64) -> u64 {
    let ms = (now - started).round();
    if ms.is_finite() && ms > 0.0 {
        // Saturating float-to-int conversion.
        ms as u64
    } else {
        0
    }
}

/// Appends `n` in decimal, without the formatting machinery.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or_default() {
        out.push(char::from(d));
    }
}

/// `value` as a JSON string, quotes included.
fn escape_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut rest = value;
    while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        let (plain, tail) = rest.split_at(at);
        out.push_str(plain);
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => {
                    let b = c as u32;
                    out.push_str("\\u00");
                    for nibble in [(b >> 4) & 0xf, b & 0xf] {
                        let h = HEX.get(nibble as usize).copied().unwrap_or(b'0');
                        out.push(char::from(h));
                    }
                }
            }
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_valid_json_that_serde_reads_back() {
        let line = Line::new()
            .opt_str("product", Some("salesforge"))
            .opt_str("key_id", None)
            .str("method", "GET")
            .str("path", "/a\"b\\c\n\r\t\u{1}\u{1f}é/日本")
            .num("kv_reads", 0)
            .num("status", u64::MAX)
            .bool("usage_reported", true)
            .bool("x", false)
            .finish();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["product"], "salesforge");
        assert!(v["key_id"].is_null());
        assert_eq!(v["path"], "/a\"b\\c\n\r\t\u{1}\u{1f}é/日本");
        assert_eq!(v["kv_reads"], 0);
        assert_eq!(v["status"], u64::MAX);
        assert_eq!(v["usage_reported"], true);
        assert_eq!(v["x"], false);
        assert!(!line.contains('\n'), "one line: {line}");
    }

    #[test]
    fn empty_object_and_numbers() {
        assert_eq!(Line::new().finish(), "{}");
        for n in [0u64, 7, 10, 99, 100, 12345, 1 << 40, u64::MAX] {
            assert_eq!(Line::new().num("n", n).finish(), format!("{{\"n\":{n}}}"));
        }
    }

    #[test]
    fn every_control_character_and_odd_input_stays_valid_json() {
        let all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        let hostile = [
            "",
            "\"",
            "\\",
            "\"}{\"a\":1",
            "\u{7f}",
            "\u{2028}\u{2029}",
            all.as_str(),
        ];
        for s in hostile {
            let line = Line::new().str("k", s).finish();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["k"], s);
            assert!(!line.contains(['\n', '\r']));
        }
    }

    #[test]
    fn elapsed_is_whole_and_never_negative() {
        assert_eq!(elapsed_ms(1000.0, 1003.0), 3);
        assert_eq!(elapsed_ms(1000.0, 1000.4), 0);
        assert_eq!(elapsed_ms(1000.0, 999.0), 0);
        assert_eq!(elapsed_ms(0.0, f64::NAN), 0);
        assert_eq!(elapsed_ms(0.0, f64::INFINITY), 0);
        assert_eq!(elapsed_ms(0.0, 1e300), u64::MAX);
    }
}
