//! Hash maps keyed by column values (join keys, distinct values), with a fast hasher: the keys are
//! data, not chosen by an adversary, and SipHash would dominate the lookups.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from column values to row numbers or ids.
pub(crate) type KeyMap<K> = HashMap<K, u32, BuildHasherDefault<KeyHasher>>;

/// The multiply-rotate scheme of Firefox's hash, a word at a time, with a final mix.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let (chunks, rest) = bytes.as_chunks::<8>();
        for chunk in chunks {
            self.add(u64::from_le_bytes(*chunk));
        }
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }

    fn write_u128(&mut self, words: u128) {
        self.add(words as u64);
        self.add((words >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        // A multiply only carries low bits upwards: fold the high bits down, so the low bits
        // (the bucket) depend on every byte, keys that differ in their last bytes included.
        let h = (self.0 ^ (self.0 >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }
}

/// Distinct values by id, in order of first appearance. Values of up to 15 bytes are looked up
/// packed into a `u128` (no pointer to follow, no bytes to compare), longer ones by reference.
#[derive(Default)]
pub(crate) struct Distinct<'a> {
    short: KeyMap<u128>,
    long: KeyMap<&'a [u8]>,
    /// The values, by id.
    pub values: Vec<&'a [u8]>,
}

impl<'a> Distinct<'a> {
    /// The id of `value`: a new one if it was not seen yet.
    pub fn id(&mut self, value: &'a [u8]) -> u32 {
        let next = u32::try_from(self.values.len()).unwrap_or(u32::MAX - 1);
        let id = match packed(value) {
            Some(key) => *self.short.entry(key).or_insert(next),
            None => *self.long.entry(value).or_insert(next),
        };
        if id as usize == self.values.len() {
            self.values.push(value);
        }
        id
    }
}

/// A value of at most 15 bytes packed with its length into a `u128` (equal only for equal
/// values); `None` for longer values.
fn packed(value: &[u8]) -> Option<u128> {
    let mut bytes = [0u8; 16];
    bytes
        .get_mut(..value.len())
        .filter(|_| value.len() < 16)?
        .copy_from_slice(value);
    bytes[15] = value.len() as u8;
    Some(u128::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn keys_differing_in_their_last_bytes_spread_over_buckets() {
        // Zero-padded names, as in generated keys: only the last bytes differ. Their low bits
        // (what a table of 4096 buckets uses) must not collide much.
        let build = BuildHasherDefault::<KeyHasher>::default();
        let buckets: std::collections::HashSet<u64> = (0..4096)
            .map(|i| build.hash_one(format!("key-{i:05}").as_bytes()) & 4095)
            .collect();
        assert!(buckets.len() > 2000, "{} distinct buckets of 4096", buckets.len());
    }
}
