'use strict'
// Node bindings benchmark (`make bench-node`; results in docs/performance.md):
// `await sandbox.run(['/bin/true'])` against child_process.execFileSync (the
// goal: at most 1.0x), spawnSync and execFile in one run, medians of 301
// runs each; then the binding's overhead: the same back-to-back runs through
// Rust's Sandbox::run_command (`examples/loop_true N 0 sandbox`, release),
// three alternating rounds (goal: at most 1.10x).
const { spawnSync, execFile, execFileSync } = require('node:child_process')
const { promisify } = require('node:util')
const fs = require('node:fs')
const path = require('node:path')
const { Sandbox, Policy } = require('../bindings-node')

const execFileAsync = promisify(execFile)

async function median(fn, rounds = 301) {
  const samples = []
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint()
    await fn()
    samples.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  samples.sort((a, b) => a - b)
  return samples[samples.length >> 1]
}

// Mean µs per run of `runs` back-to-back `sandbox.run` calls against the
// same through Rust's Sandbox::run_command, alternating, `rounds` times.
async function bindingOverhead(sandbox, runs = 301, rounds = 3) {
  const rustBin = path.join(__dirname, '..', 'target', 'release', 'examples', 'loop_true')
  if (!fs.existsSync(rustBin)) {
    return [`binding overhead: ${rustBin} missing (cargo build --release --example loop_true)`]
  }
  const out = []
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < runs; i++) await sandbox.run(['/bin/true'])
    const node = Number(process.hrtime.bigint() - t) / 1000 / runs
    const text = execFileSync(rustBin, [String(runs), '0', 'sandbox'], { encoding: 'utf8' })
    const m = /^([0-9.]+)(ms|µs) per run/.exec(text)
    if (!m) return [`binding overhead: cannot read ${JSON.stringify(text)}`]
    const rust = Number(m[1]) * (m[2] === 'ms' ? 1000 : 1)
    out.push(`binding overhead: Sandbox.run ${node.toFixed(0)} us, Rust Sandbox::run_command ${rust.toFixed(0)} us, ratio ${(node / rust).toFixed(2)}x (${runs} back-to-back runs each)`)
  }
  return out
}

async function main() {
  const lines = []
  const fileSync = await median(() => execFileSync('/bin/true'))
  const sync = await median(() => spawnSync('/bin/true'))
  const async_ = await median(() => execFileAsync('/bin/true'))
  const full = new Sandbox({ policy: Policy.forMode('selfhosted') })
  const bare = new Sandbox({ policy: Policy.forMode('selfhosted'), cgroups: 'off', networkIsolation: 'off' })
  await full.run(['/bin/true'])
  const sb = await median(() => full.run(['/bin/true']))
  const sbBare = await median(() => bare.run(['/bin/true']))
  // Closed before the overhead rounds (as the Python bench's is): its
  // background thread, tidying after its runs, is no part of `full`'s cost.
  bare.close()
  lines.push(`run /bin/true: child_process.execFileSync ${fileSync.toFixed(0)} us`)
  lines.push(`run /bin/true: child_process.spawnSync ${sync.toFixed(0)} us`)
  lines.push(`run /bin/true: child_process.execFile ${async_.toFixed(0)} us`)
  lines.push(`run /bin/true: Sandbox.run ${sb.toFixed(0)} us, ${(sb / fileSync).toFixed(2)}x execFileSync, ${(sb / sync).toFixed(2)}x spawnSync, ${(sb / async_).toFixed(2)}x execFile`)
  lines.push(`run /bin/true: Sandbox.run without cgroups and netns ${sbBare.toFixed(0)} us, ${(sbBare / sync).toFixed(2)}x spawnSync, ${(sbBare / async_).toFixed(2)}x execFile`)
  lines.push(...(await bindingOverhead(full)))
  const report = lines.join('\n') + '\n'
  process.stdout.write(report)
  const out = path.join(__dirname, '..', 'target', 'criterion')
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, 'node_bindings.txt'), report)
  full.close()
}

main()
