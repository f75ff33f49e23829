//! Start-up of the real `bootstrap` (built by cargo-lambda) to the first
//! request served through the local Lambda Runtime API of `deployer dev`
//! (goal: under 20 ms), and a warm invocation for comparison.
//! Run: cargo bench --bench cold_start [-- ROUNDS]

use deployer::local::lambda::{FunctionConfig, LambdaHost};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let (_, pkg) = deployer::package::build(deployer::config::Architecture::X86_64)
        .expect("build the handler with cargo-lambda");
    let sha = pkg.sha256_b64.clone();
    let bytes = pkg.zip.len();
    let dir = tempfile::tempdir().unwrap();
    // No emulator: the handler makes no AWS call.
    let host = LambdaHost::new(
        [Arc::new(pkg)],
        dir.path().to_path_buf(),
        "http://127.0.0.1:9",
    );
    let env = [
        ("EXAMPLE_OIDC_REDIRECT_URL", "http://127.0.0.1:9/oidc"),
        ("EXAMPLE_OIDC_ISSUER_URL", "http://127.0.0.1:9/pool"),
        ("EXAMPLE_OIDC_CLIENT_ID", "c"),
        ("EXAMPLE_OIDC_CLIENT_SECRET", "s"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let cfg = FunctionConfig {
        name: "bench".into(),
        arn: "arn:aws:lambda:eu-west-1:123456789012:function:bench".into(),
        env,
        timeout: Duration::from_secs(10),
        memory_mb: 128,
        code_sha256: sha,
        region: "eu-west-1".into(),
        concurrency: 1,
    };
    let event = json!({"version": "2.0", "rawPath": "/", "rawQueryString": "", "headers": {}, "requestContext": {"http": {"method": "GET", "path": "/"}}});
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut cold = vec![];
    let mut warm = vec![];
    rt.block_on(async {
        for _ in 0..rounds {
            host.stop().await;
            let t = Instant::now();
            let r = host.invoke(&cfg, event.clone()).await.expect("invoke");
            cold.push(t.elapsed());
            assert_eq!(r["statusCode"], 200);
            let t = Instant::now();
            host.invoke(&cfg, event.clone()).await.expect("invoke");
            warm.push(t.elapsed());
        }
        host.stop().await;
    });
    let med = |v: &mut Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() * 9 / 10])
    };
    let (c50, c90) = med(&mut cold);
    let (w50, w90) = med(&mut warm);
    println!("zip: {bytes} bytes");
    println!(
        "cold start to first response: median {:.1} ms, p90 {:.1} ms ({rounds} rounds)",
        c50.as_secs_f64() * 1e3,
        c90.as_secs_f64() * 1e3
    );
    println!(
        "warm invocation: median {:.2} ms, p90 {:.2} ms",
        w50.as_secs_f64() * 1e3,
        w90.as_secs_f64() * 1e3
    );
}
