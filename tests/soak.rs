//! Soak: the whole life of the stack (up, no-op up, down) against moto behind
//! the AWS-behaviour layer with realism on and chaos: 10% of calls
//! throttled, 5% answered 500/503, 10% of mutating calls applied with their
//! response lost. For every seed: one `up` converges with every setting
//! right and exactly one of each resource; a second `up` makes zero
//! mutating calls (moto's own recorder); one `down` leaves nothing.
//!
//! Seeds 1..=20 by default; `DEPLOYER_SOAK_SEEDS=N` and
//! `DEPLOYER_SOAK_FIRST_SEED=S` choose others. Every seed is printed, and a
//! failure names the seed that reproduces it.

use crate::common;
use common::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const THROTTLE: f64 = 0.10;
const ERROR_5XX: f64 = 0.05;
const LOST: f64 = 0.10;
const WORKERS: usize = 4;

struct Outcome {
    seed: u64,
    faults: BTreeMap<String, u64>,
    up_secs: f64,
    down_secs: f64,
}

fn one_seed(seed: u64) -> Outcome {
    let moto = Moto::start_with(Some(Awsim::chaos(seed, THROTTLE, ERROR_5XX, LOST)));
    let mut st = Stack::new(&moto, "soak");
    st.extra_config = "[tags]\nOwner = \"platform\"\n".into();
    let t = std::time::Instant::now();
    st.ok(&["up"]);
    let up_secs = t.elapsed().as_secs_f64();
    assert_every_setting(&moto, &st);
    assert_exactly_one(&moto, &st);
    moto.reset_recording();
    let out = st.ok(&["up"]);
    let writes = moto.writes();
    assert!(
        writes.is_empty(),
        "seed {seed}: the no-op up wrote: {writes:?}"
    );
    assert!(out.contains("16 unchanged"), "seed {seed}: {out}");
    let t = std::time::Instant::now();
    st.ok(&["down", "--yes"]);
    let down_secs = t.elapsed().as_secs_f64();
    assert_none(&moto, &st);
    Outcome {
        seed,
        faults: awsim_stats(&moto.endpoint),
        up_secs,
        down_secs,
    }
}

#[test]
fn soak_up_noop_down_under_realism_and_chaos() {
    let n: u64 = std::env::var("DEPLOYER_SOAK_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let first: u64 = std::env::var("DEPLOYER_SOAK_FIRST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let seeds: Vec<u64> = (first..first + n).collect();
    eprintln!(
        "soak: seeds {first}..={} (throttle {THROTTLE}, 5xx {ERROR_5XX}, lost {LOST})",
        first + n - 1
    );
    let queue = Arc::new(Mutex::new(seeds.clone()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let queue = queue.clone();
            let results = results.clone();
            std::thread::spawn(move || loop {
                let Some(seed) = queue.lock().unwrap().pop() else {
                    return;
                };
                eprintln!("soak: seed {seed} starts");
                let r = std::panic::catch_unwind(|| one_seed(seed)).map_err(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                });
                results.lock().unwrap().push((seed, r));
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let results = std::mem::take(&mut *results.lock().unwrap());
    let mut faults: BTreeMap<String, u64> = BTreeMap::new();
    let mut ups = vec![];
    let mut downs = vec![];
    let mut failed = vec![];
    for (seed, r) in &results {
        match r {
            Ok(o) => {
                for (k, v) in &o.faults {
                    *faults.entry(k.clone()).or_default() += v;
                }
                ups.push(o.up_secs);
                downs.push(o.down_secs);
                eprintln!(
                    "soak: seed {} converged: up {:.1}s, down {:.1}s, faults {:?}",
                    o.seed, o.up_secs, o.down_secs, o.faults
                );
            }
            Err(m) => failed.push(format!("seed {seed}: {m}")),
        }
    }
    ups.sort_by(f64::total_cmp);
    downs.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or_default();
    eprintln!(
        "soak summary: {} seeds, {} converged on the first up with every setting right, 0 duplicates, 0 leftovers among them; {} failed",
        results.len(),
        results.len() - failed.len(),
        failed.len()
    );
    eprintln!(
        "soak summary: median up {:.1}s, median down {:.1}s; injected faults: {faults:?}",
        median(&ups),
        median(&downs)
    );
    assert!(failed.is_empty(), "soak failures:\n{}", failed.join("\n"));
    for kind in ["throttle:", "http5", "lost_response:"] {
        assert!(
            faults.keys().any(|k| k.starts_with(kind)),
            "no {kind} fault was injected: the soak proved nothing about it ({faults:?})"
        );
    }
}
