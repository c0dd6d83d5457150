//! kiosk: the software of a self-service information-lookup terminal for a government service hall.
//!
//! `main.rs` only parses the command line; everything else lives here. See ARCHITECTURE.md.
pub mod admin;
pub mod bench;
pub mod bundle;
pub mod config;
pub mod content;
pub mod datadir;
pub mod fit;
pub mod import;
pub mod install;
pub mod qr;
pub mod schedule;
pub mod search;
pub mod service;
pub mod source;
pub mod stats;
pub mod sync;
pub mod takeaway;
pub mod text;
pub mod ui;
pub mod urlpolicy;
