//! The Delta log: listing `_delta_log`, choosing the checkpoint and commits of a version,
//! reading and writing checkpoints and replaying actions into a snapshot.
//!
//! Above `protocol` and `storage` only: the log works on [`Replayed`] states, which a
//! [`Snapshot`](crate::Snapshot) is built from (and lends back through `AsRef`).

mod action_list;
mod checkpoint_read;
mod checkpoint_schema;
mod checkpoint_write;
mod cleanup;
mod compaction;
pub mod file_list;
mod history;
mod listing;
mod replay;
mod segment;
mod tombstones;

pub use crate::storage::commit_file_name;
pub use action_list::{ActionList, ActionRow};
pub use checkpoint_write::{CheckpointOptions, write_checkpoint, write_checkpoint_with};
pub use cleanup::cleanup_log;
pub use compaction::write_log_compaction;
pub use file_list::{ADD_SCHEMA, Adds, FileKey, FileList, FileView};
pub use history::{Commit, history, read_commits, version_at_timestamp};
pub use listing::LogListing;
pub(crate) use replay::{Replayed, replay};
pub use segment::{LastCheckpoint, LogSegment};
pub use tombstones::{TOMBSTONE_SCHEMA, TombstoneList, TombstoneView, Tombstones};
