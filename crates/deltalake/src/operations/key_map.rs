//! Hash maps keyed by column values (join keys, distinct values), with a fast hasher: the keys are
//! data, not chosen by an adversary, and SipHash would dominate the lookups.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from column values to row numbers or ids.
pub(crate) type KeyMap<K> = HashMap<K, u32, BuildHasherDefault<KeyHasher>>;

/// The multiply-rotate scheme of Firefox's hash, a word at a time.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
