//! The Rust side of the Node benchmark (bench/bench.js): the same full scan into memory and the
//! same write that the package does, timed in Rust without JavaScript.
//!
//! `baseline scan TABLE RUNS` prints the seconds of each full scan; `baseline write TABLE OUT RUNS`
//! reads TABLE into memory once, then prints the seconds of each write of those batches into a
//! new table under OUT.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark program: a failure ends it"
)]

use std::time::Instant;

use deltalake::DeltaTable;
use deltalake::bindings::{WriteRequest, WriteTarget, block_on};
use futures::StreamExt;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .last()
        .unwrap()
        .parse()
        .expect("the last argument is the number of runs");
    let table = block_on(DeltaTable::open(args[2].as_str())).unwrap().unwrap();
    let mut seconds = Vec::new();
    match args[1].as_str() {
        "scan" => {
            for _ in 0..runs {
                let start = Instant::now();
                let scan = table.scan().build().unwrap();
                let batches = block_on(scan.collect()).unwrap().unwrap();
                seconds.push(start.elapsed().as_secs_f64());
                assert!(batches.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
            }
        }
        "write" => {
            let scan = table.scan().build().unwrap();
            let schema = scan.schema();
            let batches = block_on(scan.collect()).unwrap().unwrap();
            for run in 0..runs {
                let uri = format!("{}/rust-{run}", args[3]);
                let input = futures::stream::iter(batches.clone().into_iter().map(Ok)).boxed();
                let start = Instant::now();
                let target = WriteTarget::Location {
                    uri,
                    storage_options: Default::default(),
                };
                block_on(WriteRequest::default().execute(target, schema.clone(), input))
                    .unwrap()
                    .unwrap();
                seconds.push(start.elapsed().as_secs_f64());
            }
        }
        other => panic!("unknown command {other}"),
    }
    println!("{}", serde_json::json!({ "seconds": seconds }));
}
