//! The separator search behind `readuntil` and `readline`.
//!
//! It follows asyncio (CPython 3.13+): among several separators, the match
//! that *ends* first wins, and on equal ends the shorter separator wins. A
//! search that finds nothing remembers the offset below which no separator
//! can start, so the next search after more bytes arrive resumes there
//! instead of rescanning the whole buffer.

use memchr::memmem;

/// Where a separator was found: `start..end` in the searched bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
}

/// A validated, non-empty set of non-empty separators.
#[derive(Debug, Clone, Copy)]
pub struct Separators<'a> {
    seps: &'a [&'a [u8]],
    min_len: usize,
    max_len: usize,
}

/// Why a separator set was rejected, with asyncio's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeparatorError {
    Empty,
    EmptySeparator,
}

impl SeparatorError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "Separator should contain at least one element",
            Self::EmptySeparator => "Separator should be at least one-byte string",
        }
    }
}

impl<'a> Separators<'a> {
    /// Check `seps` as asyncio does: at least one, none empty.
    pub fn new(seps: &'a [&'a [u8]]) -> Result<Self, SeparatorError> {
        let min_len = seps
            .iter()
            .map(|s| s.len())
            .min()
            .ok_or(SeparatorError::Empty)?;
        if min_len == 0 {
            return Err(SeparatorError::EmptySeparator);
        }
        let max_len = seps.iter().map(|s| s.len()).max().unwrap_or(min_len);
        Ok(Self {
            seps,
            min_len,
            max_len,
        })
    }

    /// Length of the shortest separator.
    pub fn min_len(&self) -> usize {
        self.min_len
    }

    /// Whether these are the same separators, in the same order, as `other`.
    pub fn same_as(&self, other: &[Vec<u8>]) -> bool {
        self.seps.len() == other.len()
            && self.seps.iter().zip(other).all(|(a, b)| *a == b.as_slice())
    }

    /// An owned copy, to recognise the same search when it resumes.
    pub fn to_owned_list(&self) -> Vec<Vec<u8>> {
        self.seps.iter().map(|s| s.to_vec()).collect()
    }

    /// The first-ending match in `haystack` that starts at or after
    /// `offset`; on equal ends the shorter separator wins.
    pub fn find(&self, haystack: &[u8], offset: usize) -> Option<Match> {
        let mut best: Option<Match> = None;
        for sep in self.seps {
            // A match that could beat the best one so far ends no later
            // than it, so the rest of the buffer need not be searched.
            let window_end = best.map_or(haystack.len(), |m| m.end);
            if window_end < offset + sep.len() {
                continue;
            }
            let window = &haystack[offset..window_end];
            let found = match sep {
                [byte] => memchr::memchr(*byte, window),
                _ => memmem::find(window, sep),
            };
            if let Some(at) = found {
                let candidate = Match {
                    start: offset + at,
                    end: offset + at + sep.len(),
                };
                let better = best.is_none_or(|b| {
                    candidate.end < b.end || (candidate.end == b.end && candidate.start > b.start)
                });
                if better {
                    best = Some(candidate);
                }
            }
        }
        best
    }

    /// The offset from which the next search must start once `buffered`
    /// bytes have been searched without a match: no separator can start
    /// before it (asyncio's `max(0, buflen + 1 - max_seplen)`).
    pub fn resume_offset(&self, buffered: usize) -> usize {
        (buffered + 1).saturating_sub(self.max_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_end_wins_even_for_a_longer_separator() {
        let seps: &[&[u8]] = &[b"DEF", b"BCDE"];
        let found = Separators::new(seps).unwrap().find(b"ABCDEFG", 0).unwrap();
        assert_eq!(found, Match { start: 1, end: 5 });
    }

    #[test]
    fn shorter_separator_wins_on_equal_ends() {
        let seps: &[&[u8]] = &[b"\r\n", b"\n"];
        let found = Separators::new(seps).unwrap().find(b"ab\r\n", 0).unwrap();
        assert_eq!(found, Match { start: 3, end: 4 });
    }

    #[test]
    fn search_starts_at_offset() {
        let seps: &[&[u8]] = &[b"aa"];
        let s = Separators::new(seps).unwrap();
        assert_eq!(s.find(b"aaxaa", 1), Some(Match { start: 3, end: 5 }));
        assert_eq!(s.find(b"aaxaa", 4), None);
    }

    #[test]
    fn rejects_empty_sets_and_empty_separators() {
        assert_eq!(Separators::new(&[]).unwrap_err(), SeparatorError::Empty);
        let seps: &[&[u8]] = &[b"a", b""];
        assert_eq!(
            Separators::new(seps).unwrap_err(),
            SeparatorError::EmptySeparator
        );
    }
}
