//! The integration tests: one binary, one module an area.

mod bench;
mod cli;
mod config;
mod corpus;
mod loader;
mod props;
mod qr;
mod relevance;
mod sample;
mod screens;
mod search;
mod support;
