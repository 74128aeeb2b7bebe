//! Output capture with a fixed memory bound: the first half of the budget
//! keeps the head of the stream, the second half the most recent bytes;
//! what falls between is counted and replaced by a marker.

use std::collections::VecDeque;

/// A bounded capture of one output stream.
#[derive(Debug)]
pub struct BoundedOutput {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
}

impl BoundedOutput {
    /// A capture keeping at most `cap` bytes (plus the marker).
    pub fn new(cap: usize) -> BoundedOutput {
        let head_cap = cap / 2;
        BoundedOutput {
            head_cap,
            tail_cap: cap - head_cap,
            head: Vec::new(),
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Appends a chunk.
    pub fn push(&mut self, mut chunk: &[u8]) {
        if self.head.len() < self.head_cap {
            let n = chunk.len().min(self.head_cap - self.head.len());
            self.head.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
        }
        if chunk.is_empty() {
            return;
        }
        if chunk.len() >= self.tail_cap {
            // The chunk alone fills the tail: everything before it goes.
            let skip = chunk.len() - self.tail_cap;
            self.dropped += (self.tail.len() + skip) as u64;
            self.tail.clear();
            self.tail.extend(&chunk[skip..]);
            return;
        }
        let overflow = (self.tail.len() + chunk.len()).saturating_sub(self.tail_cap);
        if overflow > 0 {
            self.tail.drain(..overflow);
            self.dropped += overflow as u64;
        }
        self.tail.extend(chunk);
    }

    /// Bytes dropped from the middle so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The captured bytes (head, marker when bytes were dropped, tail) and
    /// whether anything was dropped.
    pub fn finish(self) -> (Vec<u8>, bool) {
        let truncated = self.dropped > 0;
        let mut out = self.head;
        if truncated {
            out.extend_from_slice(marker(self.dropped).as_bytes());
        }
        let (a, b) = self.tail.as_slices();
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        (out, truncated)
    }
}

/// The text that stands for dropped bytes.
pub fn marker(dropped: u64) -> String {
    format!("\n[sandboxcore: {dropped} bytes of output dropped]\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_output_is_kept_whole() {
        let mut o = BoundedOutput::new(10);
        o.push(b"abc");
        o.push(b"de");
        assert_eq!(o.finish(), (b"abcde".to_vec(), false));
    }

    #[test]
    fn keeps_head_and_tail_with_a_marker() {
        let mut o = BoundedOutput::new(6);
        for c in b"0123456789" {
            o.push(&[*c]);
        }
        let (bytes, truncated) = o.finish();
        assert!(truncated);
        assert_eq!(
            bytes,
            [b"012".as_slice(), marker(4).as_bytes(), b"789"].concat()
        );
    }

    proptest! {
        /// Whatever the chunking, the result is the stream's head and tail
        /// around a marker counting exactly the bytes dropped.
        #[test]
        fn head_and_tail_are_exact(cap in 0usize..40, chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..30), 0..20)) {
            let all: Vec<u8> = chunks.concat();
            let mut o = BoundedOutput::new(cap);
            for c in &chunks {
                o.push(c);
            }
            let (bytes, truncated) = o.finish();
            if all.len() <= cap {
                prop_assert!(!truncated);
                prop_assert_eq!(bytes, all);
            } else {
                let head = cap / 2;
                let tail = cap - head;
                let expected = [
                    &all[..head],
                    marker((all.len() - cap) as u64).as_bytes(),
                    &all[all.len() - tail..],
                ]
                .concat();
                prop_assert!(truncated);
                prop_assert_eq!(bytes, expected);
            }
        }
    }
}
