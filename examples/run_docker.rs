//! Checks commands against a policy and runs them in hardened containers
//! on a warm pool (needs a Docker daemon and an image; `make docker` builds
//! the test image):
//! `cargo run --example run_docker -- sandboxcore-test:busybox 'id; ls /' 'cat /etc/hostname'`.
use sandboxcore::exec::docker::{DockerConfig, DockerExecutor};
use sandboxcore::exec::Executor;
use sandboxcore::{Policy, RunOptions, Sandbox};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> sandboxcore::Result<()> {
    let mut args = std::env::args().skip(1);
    let image = args
        .next()
        .unwrap_or_else(|| "sandboxcore-test:busybox".into());
    let mut commands: Vec<String> = args.collect();
    if commands.is_empty() {
        commands = vec![
            "id; touch /x".into(),
            "echo hello > /tmp/f; cat /tmp/f".into(),
        ];
    }
    let mut config = DockerConfig::new(image);
    config.pool_size = 2;
    if config.agent.is_none() {
        eprintln!("no sandboxcore-agent found (make agent): the pool needs it; running cold");
        config.pool_size = 0;
    }
    let exec = DockerExecutor::connect(config).await?;
    println!("capabilities: {:?}", exec.capabilities());
    exec.pool_ready(Duration::from_secs(30)).await;
    let sandbox = Sandbox::builder()
        .policy(Policy::for_mode(
            sandboxcore::policy::DeploymentMode::Selfhosted,
        ))
        .executor(exec)
        .build()?;
    for command in commands {
        let t = Instant::now();
        match sandbox.run(&command, RunOptions::default()).await {
            Ok(o) => {
                print!("$ {command}\n{}{}", o.stdout_text(), o.stderr_text());
                println!(
                    "-> {} (exit {:?}) in {:?}",
                    o.status(),
                    o.exit_code,
                    t.elapsed()
                );
            }
            Err(e) => println!("$ {command}\n-> {e}"),
        }
    }
    Ok(())
}
