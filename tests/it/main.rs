//! The integration tests: one binary, one module an area.

mod admin;
mod bench;
mod bundles;
mod cli;
mod config;
mod corpus;
mod crash;
mod hostile;
mod http;
mod import;
mod import_sheet;
mod loader;
mod network;
mod plain_language;
mod props;
mod publish;
mod qr;
mod relevance;
mod render;
mod sample;
mod screens;
mod search;
mod stats_report;
mod stats_store;
mod stats_upload;
mod support;
