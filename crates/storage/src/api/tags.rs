//! Typed writes on tags.

use std::collections::BTreeMap;

use verso_domain::{Command, TaggedResource};

use super::{Pending, done};
use crate::store::Store;

impl Store {
    /// Adds tags to a resource, overwriting the values of keys it already has. The
    /// resource must exist and hold at most 50 tags afterwards; predefined deployment
    /// strategies cannot be tagged. Nothing is appended when nothing changes.
    pub fn tag_resource(
        &self,
        resource: &TaggedResource,
        tags: BTreeMap<String, String>,
    ) -> Pending<()> {
        self.submit(Command::TagResource {
            resource: resource.clone(),
            tags,
        })
        .map(done)
    }

    /// Removes tags from a resource; keys it does not have are ignored, and nothing is
    /// appended when none of the keys is there.
    pub fn untag_resource(&self, resource: &TaggedResource, keys: Vec<String>) -> Pending<()> {
        self.submit(Command::UntagResource {
            resource: resource.clone(),
            keys,
        })
        .map(done)
    }
}
