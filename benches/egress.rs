//! Egress proxy benchmarks (`make bench`), the proxy (`Egress::serve` on
//! a loopback listener) against the same work done directly, in the same
//! run, with loopback servers only:
//!
//! - bulk download: 1 GiB from a loopback server through a CONNECT tunnel
//!   against the same download straight from the server (goal: through
//!   the proxy at least 0.5x the direct rate);
//! - connection latency: CONNECT through the proxy until the 200 and the
//!   first bytes echoed back, against a direct TCP connect and the same
//!   echo, interleaved (goal: at most 1 ms added, median).
//!
//! The tunnel's client sends a TLS ClientHello first (the proxy checks its
//! server name), then the proxy only carries bytes. The summary goes to
//! stdout and `criterion/egress_ratio.txt` in the target directory.

#[path = "../tests/common/net.rs"]
mod net;

use criterion::{criterion_group, Criterion};
use sandboxcore::net::{Egress, EgressRules, ProxyHandle, StaticResolver};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The bulk download's size.
const BULK: u64 = 1 << 30;
/// Read and write buffers of the bulk client and server.
const CHUNK: usize = 256 * 1024;
/// Latency iterations (each: one direct, one through the proxy).
const LATENCY_ROUNDS: usize = 200;

/// A multi-threaded runtime, as a server would use (the proxy, the
/// server and the client all run on it).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The proxy on a loopback listener: `bench.test` → 127.0.0.1, allowed
/// with the loopback address.
async fn proxy() -> ProxyHandle {
    let rules = EgressRules::new(&["bench.test".into(), "127.0.0.1".into()], &[], &[]).unwrap();
    let resolver = StaticResolver::new().with("bench.test", &["127.0.0.1".parse().unwrap()]);
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Egress::new(rules)
        .with_resolver(Arc::new(resolver))
        .serve(l)
        .unwrap()
}

/// A server that reads the ClientHello, then sends `BULK` bytes and
/// closes.
async fn bulk_server() -> net::Upstream {
    let hello_len = net::client_hello("bench.test").len();
    net::serve(move |mut s| async move {
        let mut hello = vec![0u8; hello_len];
        if s.read_exact(&mut hello).await.is_err() {
            return;
        }
        let chunk = vec![0x5au8; CHUNK];
        let mut left = BULK;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            if s.write_all(&chunk[..n]).await.is_err() {
                return;
            }
            left -= n as u64;
        }
        let _ = s.shutdown().await;
    })
    .await
}

/// A stream to `server`: directly, or through a tunnel of `proxy`.
async fn open(server: SocketAddr, proxy: Option<SocketAddr>) -> TcpStream {
    match proxy {
        None => {
            let s = TcpStream::connect(server).await.unwrap();
            s.set_nodelay(true).unwrap();
            s
        }
        Some(p) => {
            let (head, s) = net::connect(p, &format!("bench.test:{}", server.port()))
                .await
                .unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            s
        }
    }
}

/// Downloads `BULK` bytes; returns MB/s (10^6 bytes).
async fn download(server: SocketAddr, proxy: Option<SocketAddr>) -> f64 {
    let started = Instant::now();
    let mut s = open(server, proxy).await;
    s.write_all(&net::client_hello("bench.test")).await.unwrap();
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    loop {
        let n = tokio::time::timeout(net::STEP, s.read(&mut buf))
            .await
            .expect("the download stalled")
            .unwrap();
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    assert_eq!(got, BULK);
    BULK as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// One connection, the hello sent and echoed back; returns the time.
async fn echo_once(server: SocketAddr, proxy: Option<SocketAddr>, hello: &[u8]) -> Duration {
    let started = Instant::now();
    let mut s = open(server, proxy).await;
    s.write_all(hello).await.unwrap();
    let mut back = vec![0u8; hello.len()];
    tokio::time::timeout(net::STEP, s.read_exact(&mut back))
        .await
        .expect("no echo")
        .unwrap();
    started.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let (echo, p) = rt.block_on(async { (net::echo_upstream().await, proxy().await) });
    let hello = net::client_hello("bench.test");
    let mut g = c.benchmark_group("egress");
    g.sample_size(50);
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("direct_connect_echo", |b| {
        b.iter(|| rt.block_on(echo_once(echo.address, None, &hello)))
    });
    g.bench_function("proxy_connect_echo", |b| {
        b.iter(|| rt.block_on(echo_once(echo.address, Some(p.address()), &hello)))
    });
    g.finish();
}

fn summary() {
    let rt = runtime();
    let mut report = String::new();
    rt.block_on(async {
        let p = proxy().await;
        let bulk = bulk_server().await;
        // Interleaved, so that both see the same machine.
        let (mut direct, mut proxied) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            direct.push(download(bulk.address, None).await);
            proxied.push(download(bulk.address, Some(p.address())).await);
        }
        let (d, t) = (median(&mut direct), median(&mut proxied));
        report.push_str(&format!(
            "bulk download 1 GiB (median of 3, interleaved): direct {d:.0} MB/s, through the \
             proxy's CONNECT tunnel {t:.0} MB/s: ratio {:.2}x direct (goal >= 0.5x: {})\n",
            t / d,
            if t / d >= 0.5 { "met" } else { "MISSED" }
        ));

        let echo = net::echo_upstream().await;
        let hello = net::client_hello("bench.test");
        // Warm up both paths.
        for _ in 0..20 {
            echo_once(echo.address, None, &hello).await;
            echo_once(echo.address, Some(p.address()), &hello).await;
        }
        let (mut direct, mut proxied) = (Vec::new(), Vec::new());
        for _ in 0..LATENCY_ROUNDS {
            direct.push(echo_once(echo.address, None, &hello).await.as_secs_f64() * 1e6);
            proxied.push(
                echo_once(echo.address, Some(p.address()), &hello)
                    .await
                    .as_secs_f64()
                    * 1e6,
            );
        }
        let (d, t) = (median(&mut direct), median(&mut proxied));
        let added_ms = (t - d) / 1e3;
        report.push_str(&format!(
            "connect + first echo (median of {LATENCY_ROUNDS}, interleaved): direct {d:.0} us, \
             through the proxy (CONNECT, 200, hello checked and echoed) {t:.0} us: \
             {added_ms:.3} ms added, {:.2}x direct (goal <= 1 ms added: {})\n",
            t / d,
            if added_ms <= 1.0 { "met" } else { "MISSED" }
        ));
    });
    print!("{report}");
    let dir = target_dir().join("criterion");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("egress_ratio.txt"), report).unwrap();
}

criterion_group!(egress_benches, benches);

fn main() {
    egress_benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
