//! Doc tests of documents that no published crate can include: the user guide and the
//! READMEs. Their Rust snippets run as this crate's doc tests (`cargo test -p
//! gstpipe-doctests --doc`). Not published.

/// The user guide, `docs/guide.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide.md")]
pub struct Guide;

/// The workspace README.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct Readme;

/// `crates/core/README.md` (the crates.io page of gstpipe-core).
#[cfg(doctest)]
#[doc = include_str!("../../core/README.md")]
pub struct CoreReadme;

/// `crates/frame/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../frame/README.md")]
pub struct FrameReadme;

/// `crates/sinks/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../sinks/README.md")]
pub struct SinksReadme;

/// `crates/live/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../live/README.md")]
pub struct LiveReadme;

/// `crates/batch/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../batch/README.md")]
pub struct BatchReadme;

/// `crates/media/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../media/README.md")]
pub struct MediaReadme;
