use super::*;
use crate::key::format::tests::{vector_secret, VECTORS, VECTOR_SECRET};
use crate::key::{mint, parse, Environment};
use crate::secret::ApiKey;

const OTHER_SECRET: &str = "keygate-test-vector-other-secret-0123456789";
/// `sf`, live, 32 zero bytes, tagged with [`OTHER_SECRET`] (Python, as for
/// the other vectors).
const OTHER_VECTOR: &str = "sf_live_00000000000000000000000000000000000000000000Gal59sUq130c1x";

fn parsed(key: &str) -> WellFormedKey {
    parse(&ApiKey::new(key)).unwrap()
}

#[test]
fn known_answers_verify_under_their_secret() {
    for (_, _, _, key, hash) in VECTORS {
        let tagged = verify_tag(parsed(key), &vector_secret()).expect(key);
        assert_eq!(tagged.hash().to_hex(), *hash);
        assert!(!tagged.under_previous());
    }
}

#[test]
fn another_secret_gives_another_tag_and_the_same_checksum_rules() {
    // The forgery is well formed: scanners and the offline check accept it.
    let forged = parsed(OTHER_VECTOR);
    assert!(verify_tag(forged.clone(), &vector_secret()).is_none());
    let other = KeySecret::new(OTHER_SECRET, None).unwrap();
    assert!(verify_tag(forged, &other).is_some());
}

#[test]
fn the_previous_secret_still_verifies_after_rotation() {
    let rotated = KeySecret::new(OTHER_SECRET, Some(VECTOR_SECRET)).unwrap();
    let old = verify_tag(parsed(VECTORS[0].3), &rotated).expect("previous secret");
    assert!(old.under_previous());
    let new = verify_tag(parsed(OTHER_VECTOR), &rotated).expect("current secret");
    assert!(!new.under_previous());
    // New keys are minted under the current secret only.
    let minted = mint("sf", Environment::Live, &[0; 32], &rotated).unwrap();
    assert_eq!(minted.key.key().expose(), OTHER_VECTOR);
    // Once the previous secret is removed, old keys stop verifying.
    let only_new = KeySecret::new(OTHER_SECRET, None).unwrap();
    assert!(verify_tag(parsed(VECTORS[0].3), &only_new).is_none());
}

#[test]
fn any_change_to_the_tag_is_refused() {
    let key = VECTORS[1].3;
    let tag_at = key.len() - TAG_CHARS - 6;
    for i in tag_at..tag_at + TAG_CHARS {
        for c in ['0', '1', 'A', 'z'] {
            let mut bytes = key.as_bytes().to_vec();
            if bytes[i] == c as u8 {
                continue;
            }
            bytes[i] = c as u8;
            let text = String::from_utf8(bytes).unwrap();
            // Recompute the public checksum, as a forger would.
            let body = &text[..text.len() - 6];
            let forged = format!("{body}{}", crate::key::checksum(body));
            // Out of range is refused offline; in range, by the tag.
            if let Ok(well_formed) = parse(&ApiKey::new(&forged)) {
                assert!(
                    verify_tag(well_formed, &vector_secret()).is_none(),
                    "{forged}"
                );
            }
        }
    }
}

#[test]
fn legacy_keys_pass_only_with_the_switch() {
    use crate::key::format::tests::LEGACY;
    for key in LEGACY {
        assert!(verify_tag(parsed(key), &vector_secret()).is_none());
        assert!(admit(parsed(key), &vector_secret(), false).is_none());
        let admitted = admit(parsed(key), &vector_secret(), true).unwrap();
        assert_eq!(admitted.tag(), Tag::Untagged);
    }
    // The switch never lets a tagged key skip its check.
    assert!(admit(parsed(OTHER_VECTOR), &vector_secret(), true).is_none());
    let current = admit(parsed(VECTORS[0].3), &vector_secret(), true).unwrap();
    assert_eq!(current.tag(), Tag::Current);
    let rotated = KeySecret::new(OTHER_SECRET, Some(VECTOR_SECRET)).unwrap();
    let previous = admit(parsed(VECTORS[0].3), &rotated, false).unwrap();
    assert_eq!(previous.tag().as_str(), "previous");
}

#[test]
fn tag_has_the_documented_size() {
    // 62^8 < 2^48 <= 62^9: nine characters hold six bytes.
    assert!(62u64.pow(8) < 1 << 48 && 1u64 << 48 <= 62u64.pow(9));
    assert_eq!(TAG_BYTES, 6);
}
