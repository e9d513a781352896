//! Quick start: open a store, write a few versions, read them back, print the audit log
//! and verify the whole history.
//!
//! ```text
//! cargo run --example quickstart                 # uses ./verso-quickstart-data
//! cargo run --example quickstart -- /some/dir    # or a directory of your choice
//! ```
//!
//! Run it twice on the same directory: the second run finds the application and adds
//! the next version numbers, because everything is durable.
#![allow(clippy::print_stdout)]

use std::error::Error;

use verso::{NewApplication, NewHostedVersion, NewProfile, PageRequest, Store};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "verso-quickstart-data".to_owned());
    let store = Store::open(&dir)?.with_actor("quickstart");

    // Reuse the application from an earlier run, or create it.
    let existing = store.applications(&PageRequest::default())??;
    let app = match existing.items.into_iter().find(|a| a.name == "quickstart") {
        Some(app) => app,
        None => store
            .create_application(NewApplication {
                name: "quickstart".into(),
                description: Some("made by examples/quickstart.rs".into()),
                ..Default::default()
            })
            .wait()??,
    };
    let profiles = store.profiles(&app.id, &PageRequest::default())??;
    let profile = match profiles.items.into_iter().next() {
        Some(p) => p,
        None => store
            .create_profile(
                &app.id,
                NewProfile {
                    name: "feature-flags".into(),
                    ..Default::default()
                },
            )
            .wait()??,
    };

    for n in 0..3 {
        let latest = store
            .hosted_versions(&app.id, &profile.id, None, &PageRequest::default())??
            .items
            .first()
            .map_or(0, |v| v.version.get());
        let created = store
            .create_hosted_version(
                &app.id,
                &profile.id,
                NewHostedVersion {
                    content: format!("{{\"checkout\": {}}}", n % 2 == 0).into_bytes(),
                    content_type: "application/json".into(),
                    label: Some(format!("release-{}", latest + 1)),
                    // The optimistic lock: refused if someone else created a version since.
                    latest_version_number: Some(latest),
                    ..Default::default()
                },
            )
            .wait()??;
        println!(
            "created {} version {} ({} bytes, sha256 {})",
            created.stream, created.version, created.content.len, created.content.hash
        );
    }

    let latest = store.latest_hosted_version(&app.id, &profile.id)??;
    println!(
        "latest is version {}: {}",
        latest.record.version,
        String::from_utf8_lossy(&latest.content)
    );

    println!("\nthe log, oldest first:");
    for recorded in store.events(verso::Position::FIRST) {
        let r = recorded?;
        println!(
            "  #{:<4} {:>13} ms  {:<20} by {}",
            r.position,
            r.timestamp.as_millis(),
            r.event.name(),
            r.actor.as_deref().unwrap_or("-")
        );
    }

    match store.verify()? {
        Ok(report) => println!(
            "\nverified: {} records, chain head {}",
            report.head.position,
            report.head.hash_hex()
        ),
        Err(violation) => println!("\nVERIFY FAILED: {violation}"),
    }
    let head = store.close()?;
    println!("closed at position {}", head.position);
    Ok(())
}
