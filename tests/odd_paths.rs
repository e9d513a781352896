//! Opening something that is not a store directory is a typed error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use verso::{ErrorKind, Store, StoreOptions};

#[test]
fn opening_a_regular_file_as_a_store_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"hello").unwrap();
    let err = Store::open(&file).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
}

#[test]
fn verifying_a_directory_without_a_store_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = verso::verify_path(dir.path(), &mut |_| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
}

#[test]
fn out_of_range_options_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    for options in [
        StoreOptions::new().max_batch(0),
        StoreOptions::new().max_batch(65_537),
        StoreOptions::new().cache_capacity(1024),
    ] {
        let err = options.open(dir.path()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    }
    assert!(
        !dir.path().join("db").exists(),
        "invalid options must not create a store"
    );
}
