//! The integration tests: one binary, one module an area.

mod bench;
mod cli;
mod config;
mod corpus;
mod loader;
mod props;
mod relevance;
mod sample;
mod search;
mod support;
