'use strict'
// Node bindings benchmark (`make bench-node`; results in docs/performance.md):
// sandbox.run(['/bin/true']) against child_process.spawnSync and execFile
// in one run (goal: at most 1.0x). Medians of 301 runs each.
const { spawnSync, execFile } = require('node:child_process')
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

async function main() {
  const lines = []
  const sync = await median(() => spawnSync('/bin/true'))
  const async_ = await median(() => execFileAsync('/bin/true'))
  const full = new Sandbox({ policy: Policy.forMode('selfhosted') })
  const bare = new Sandbox({ policy: Policy.forMode('selfhosted'), cgroups: 'off', networkIsolation: 'off' })
  await full.run(['/bin/true'])
  const sb = await median(() => full.run(['/bin/true']))
  const sbBare = await median(() => bare.run(['/bin/true']))
  lines.push(`run /bin/true: child_process.spawnSync ${sync.toFixed(0)} us`)
  lines.push(`run /bin/true: child_process.execFile ${async_.toFixed(0)} us`)
  lines.push(`run /bin/true: Sandbox.run ${sb.toFixed(0)} us, ${(sb / sync).toFixed(2)}x spawnSync, ${(sb / async_).toFixed(2)}x execFile`)
  lines.push(`run /bin/true: Sandbox.run without cgroups and netns ${sbBare.toFixed(0)} us, ${(sbBare / sync).toFixed(2)}x spawnSync, ${(sbBare / async_).toFixed(2)}x execFile`)
  const report = lines.join('\n') + '\n'
  process.stdout.write(report)
  const out = path.join(__dirname, '..', 'target', 'criterion')
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, 'node_bindings.txt'), report)
  full.close()
  bare.close()
}

main()
