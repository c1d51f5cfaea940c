//! `kafka-delta-ingest`: a daemon that moves JSON and Avro messages from Kafka topics into Delta tables
//! exactly once, a drop-in for the original daemon (see the README).

pub mod avro;
pub mod cli;
pub mod consumer;
pub mod decode;
pub mod error;
pub mod ingest;
pub mod metrics;
pub mod transform;
