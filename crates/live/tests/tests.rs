//! Integration tests of gstpipe-live.
