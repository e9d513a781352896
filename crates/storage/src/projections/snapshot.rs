//! Snapshots: what readers read (invariant R1).
//!
//! The writer keeps two copies of the projections. Readers hold the published one (an
//! `Arc`); the writer decides the next group against it plus the group's overlay, and
//! after the group's barrier makes the next snapshot out of the other copy: that copy
//! lacks the previous group's overlay and gets it first, then the new group's. If a
//! reader still holds that copy, it is cloned from the published one instead, so a
//! reader never waits for the writer and the writer never waits long for a reader.

use std::sync::Arc;

use super::{Map, apply_writes};
use crate::log::Head;
use crate::projections::overlay::Writes;

/// A snapshot of the projections, as of `head`. Never changed once published.
#[derive(Debug)]
pub(crate) struct Published {
    /// The last acknowledged position and its chain hash.
    pub(crate) head: Head,
    /// The projections (and content headers) as of `head`.
    pub(crate) map: Map,
}

/// How many times the writer yields to a reader that still holds the spare copy before
/// cloning the published one (a reader holds a snapshot for one query: microseconds).
const SPARE_PATIENCE: u32 = 64;

/// The writer's two copies.
pub(crate) struct Copies {
    /// The snapshot readers take now.
    published: Arc<Published>,
    /// The snapshot published before it, and the overlay that turns it into
    /// `published`. `None` until the first group after open or a rebuild.
    spare: Option<(Arc<Published>, Arc<Writes>)>,
}

impl Copies {
    /// The copies of a store whose readers take `published` now.
    pub(crate) fn new(published: Arc<Published>) -> Self {
        Self {
            published,
            spare: None,
        }
    }

    /// The snapshot readers take now, which the writer decides against.
    pub(crate) fn current(&self) -> &Arc<Published> {
        &self.published
    }

    /// Makes and returns the next snapshot: the current one with `writes` applied, as of
    /// `head`. The caller publishes it.
    pub(crate) fn advance(&mut self, writes: Arc<Writes>, head: Head) -> Arc<Published> {
        let mut map = self.take_spare();
        apply_writes(&mut map, &writes);
        let next = Arc::new(Published { head, map });
        let old = std::mem::replace(&mut self.published, Arc::clone(&next));
        self.spare = Some((old, writes));
        next
    }

    /// A map equal to the published one: the spare brought up to date, or a clone.
    fn take_spare(&mut self) -> Map {
        if let Some((mut spare, lag)) = self.spare.take() {
            for _ in 0..SPARE_PATIENCE {
                match Arc::try_unwrap(spare) {
                    Ok(Published { mut map, .. }) => {
                        apply_writes(&mut map, &lag);
                        return map;
                    }
                    Err(held) => {
                        spare = held;
                        std::thread::yield_now();
                    }
                }
            }
        }
        self.published.map.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(pairs: &[(&str, Option<&str>)]) -> Arc<Writes> {
        Arc::new(
            pairs
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
                .collect(),
        )
    }

    fn head(position: u64) -> Head {
        Head {
            position,
            hash: [0; 32],
        }
    }

    fn entries(p: &Published) -> Vec<(String, String)> {
        p.map
            .iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn every_snapshot_is_the_one_before_with_its_group_applied_and_old_snapshots_never_change() {
        // R1: a reader holding a snapshot keeps exactly what it took, whatever follows.
        let mut copies = Copies::new(Arc::new(Published {
            head: head(0),
            map: Map::new(),
        }));
        let first = copies.advance(writes(&[("a", Some("1")), ("b", Some("1"))]), head(1));
        let held = Arc::clone(&first);
        let second = copies.advance(writes(&[("a", Some("2"))]), head(2));
        // `held` kept the spare copy from being reused: it was cloned instead.
        let third = copies.advance(writes(&[("b", None), ("c", Some("3"))]), head(3));
        drop(second);
        // Now the spare is free and is brought up to date.
        let fourth = copies.advance(writes(&[("d", Some("4"))]), head(4));
        let s = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(entries(&held), vec![s("a", "1"), s("b", "1")]);
        assert_eq!(entries(&third), vec![s("a", "2"), s("c", "3")]);
        assert_eq!(
            entries(&fourth),
            vec![s("a", "2"), s("c", "3"), s("d", "4")]
        );
        assert_eq!(copies.current().head.position, 4);
        let fifth = copies.advance(writes(&[]), head(5));
        assert_eq!(entries(&fifth), entries(&fourth));
    }
}
