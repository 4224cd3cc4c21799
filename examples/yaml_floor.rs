//! The floor under `obsgate check`: read every `.yml`/`.yaml` file under the given paths and parse
//! it into obsgate's span-carrying YAML tree (the same parser and the same rayon parallelism as
//! `check`), and nothing else. `benches/compare.sh` times it beside the full audit.
//!
//! Run: `cargo run --release --example yaml_floor -- target/bench-data/large`

use rayon::prelude::*;

fn main() {
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        let mut stack = vec![std::path::PathBuf::from(arg)];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                for e in std::fs::read_dir(&p).expect("read dir").flatten() {
                    stack.push(e.path());
                }
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    let nodes: usize = files
        .par_iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read file");
            let lines = obsgate::source::LineIndex::new(&text);
            obsgate::parse::yaml::parse_documents(&text, &lines).map_or(0, |d| d.len())
        })
        .sum();
    println!("{} files, {nodes} documents", files.len());
}
