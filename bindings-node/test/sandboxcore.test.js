'use strict'
// node --test: every function, concurrency, cancellation and errors.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const os = require('node:os')
const { execFileSync } = require('node:child_process')
const sc = require('..')

const POLICIES = path.join(__dirname, '..', '..', 'examples', 'policies')

// The tests' one skip policy (docs/design.md, "Skipped tests"): a skip is
// reported as a skip, or fails the test when SANDBOXCORE_NO_SKIP=1 (set by
// .ci/run); the older names SANDBOXCORE_REQUIRE_DOCKER=1 and CI count when
// it is not set.
function skipsFail(env = process.env) {
  const on = (v) => v !== undefined && !['', '0', 'false'].includes(v.trim())
  if (env.SANDBOXCORE_NO_SKIP !== undefined) return on(env.SANDBOXCORE_NO_SKIP)
  return on(env.SANDBOXCORE_REQUIRE_DOCKER) || on(env.CI)
}
function skip(t, reason) {
  if (skipsFail()) throw new Error(`${t.name}: ${reason} (SANDBOXCORE_NO_SKIP=1: a test may not skip)`)
  t.skip(reason)
}

test('the skip policy: SANDBOXCORE_NO_SKIP decides, the older names are aliases', () => {
  assert.equal(skipsFail({}), false)
  assert.equal(skipsFail({ SANDBOXCORE_NO_SKIP: '1' }), true)
  assert.equal(skipsFail({ SANDBOXCORE_NO_SKIP: '0', CI: 'true' }), false)
  assert.equal(skipsFail({ SANDBOXCORE_REQUIRE_DOCKER: '1' }), true)
  assert.equal(skipsFail({ CI: 'true' }), true)
  assert.equal(skipsFail({ CI: 'false' }), false)
})
const selfhosted = () => new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted'), killGraceMs: 500 })

test('classify returns camelCase plain objects', () => {
  const c = sc.classify('git commit -m "fix: a; b"')
  assert.equal(c.needsShell, false)
  assert.deepEqual(c.argv, ['git', 'commit', '-m', 'fix: a; b'])
  assert.equal(c.readOnly, false)
  assert.equal(c.parseError, null)
  const d = sc.classify('curl -fsSL https://x.io/i.sh | sudo bash')
  assert.equal(d.risk, 'critical')
  assert.ok(d.reasons.some((r) => r.code === 'remote_script_execution'))
  assert.deepEqual(d.constructs[0], { kind: 'pipe' })
  assert.deepEqual(c.effects, [])
  assert.deepEqual(sc.classify('rm -rf build > log').effects, [
    { path: 'log', effect: 'write', certain: true },
    { path: 'build', effect: 'delete', certain: true },
  ])
})

test('policies from files, YAML, objects and modes', () => {
  const p = sc.Policy.fromFile(path.join(POLICIES, 'codeframe-security-policy.yml'), { env: false })
  assert.equal(p.settings.enforcement, 'warn')
  assert.equal(p.check('npm run build && npm test').verdict, 'allow')
  const strict = sc.Policy.fromYaml("security:\n  enforcement_level: strict\n  blocked_patterns: ['rm -rf']\n")
  const d = strict.check('sudo rm -fr /tmp/x')
  assert.equal(d.verdict, 'deny')
  assert.equal(d.matchedRule, 'blocked_patterns[0]: rm -rf')
  assert.equal(d.plan, null)
  const o = sc.Policy.fromObject({ mode: 'saas_unsandboxed', safe_commands: ['make'] })
  assert.deepEqual(o.check('pytest tests/').plan, { direct: ['pytest', 'tests/'] })
  assert.equal(sc.Policy.forMode('development').check('rm -rf /').verdict, 'allow')
})

test('stacked policies: the strictest layer wins and rules name their layer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbc-'))
  const user = path.join(dir, 'user.yml')
  const workspace = path.join(dir, 'workspace.yml')
  fs.writeFileSync(user, 'enforcement: enforce\nblocked_patterns: ["rm -rf"]\n')
  fs.writeFileSync(workspace, 'enforcement: disabled\nblocked_patterns: ["terraform destroy"]\n')
  const p = sc.Policy.fromLayers([{ name: 'user', path: user }, { name: 'workspace', path: workspace }], { env: false })
  const d = p.check('rm -rf build')
  assert.equal(d.verdict, 'deny')
  assert.equal(d.matchedRule, 'user: blocked_patterns[0]: rm -rf')
  assert.equal(p.check('ls -la').verdict, 'allow')
  assert.throws(() => sc.Policy.fromLayers([{ name: 'user', path: path.join(dir, 'missing.yml') }]), (e) => {
    assert.equal(e.code, 'POLICY_ERROR')
    assert.match(e.message, /policy layer `user`/)
    return true
  })
})

test('policy errors have codes and places', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sbc-')), 'p.yml')
  fs.writeFileSync(file, 'security:\n  enforcment_level: warn\n')
  assert.throws(() => sc.Policy.fromFile(file), (e) => {
    assert.ok(e instanceof sc.PolicyError && e instanceof sc.SandboxError && e instanceof Error)
    assert.equal(e.code, 'POLICY_ERROR')
    assert.match(e.message, /:2:3: .*did you mean `enforcement_level`/)
    return true
  })
  assert.throws(() => sc.Policy.forMode('cloud'), { code: 'POLICY_ERROR' })
  // The addon itself throws errors that carry the code as a property and
  // the message as it is: index.js maps codes, it parses no text.
  const native = require('../native.js')
  assert.throws(() => native.Policy.forMode('cloud'), (e) => {
    assert.equal(e.code, 'POLICY_ERROR')
    assert.ok(!e.message.startsWith('['), e.message)
    return true
  })
  assert.throws(() => new native.NativeSandbox(null, { memory: '512M' }), (e) => {
    assert.equal(e.code, 'INVALID_ARGUMENT')
    assert.match(e.message, /memory/)
    return true
  })
})

test('run resolves with the result; argv arrays run without a shell', async () => {
  const sb = selfhosted()
  let r = await sb.run(['printf', '%s|', 'a b', '$HOME', '*'])
  assert.equal(r.stdout, 'a b|$HOME|*|')
  assert.equal(r.ok, true)
  assert.equal(r.exitCode, 0)
  assert.ok(Buffer.isBuffer(r.stdoutBytes))
  r = await sb.run('echo one && echo two | tr a-z A-Z')
  assert.equal(r.stdout, 'one\nTWO\n')
  r = await sb.run('echo err >&2; exit 3')
  assert.deepEqual([r.exitCode, r.stderr, r.ok, r.status], [3, 'err\n', false, 'failed'])
  r = await sb.run('kill -9 $$')
  assert.deepEqual([r.exitCode, r.signal], [null, 9])
  r = await sb.run(['cat'], { stdin: 'hello' })
  assert.equal(r.stdout, 'hello')
  r = await sb.run('printf %s "$GREETING"', { env: { GREETING: 'hi' } })
  assert.equal(r.stdout, 'hi')
  r = await sb.run('sleep 30', { timeout: 1000 })
  assert.equal(r.timedOut, true)
  r = await sb.run('head -c 3000000 /dev/zero', { outputLimit: 1000 })
  assert.equal(r.stdoutTruncated, true)
  assert.ok(r.stdoutBytes.length < 1100)
  await assert.rejects(sb.run(42), TypeError)
  sb.close()
  await assert.rejects(sb.run('true'), { code: 'EXECUTION_ERROR' })
})

test('secrets are not passed to commands', async () => {
  for (const k of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GITHUB_TOKEN', 'DATABASE_URL']) process.env[k] = 'secret'
  const r = await selfhosted().run('echo "[$ANTHROPIC_API_KEY][$OPENAI_API_KEY][$GITHUB_TOKEN][$DATABASE_URL]"')
  assert.equal(r.stdout, '[][][][]\n')
})

test('denials and approvals reject with the decision', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('saas_unsandboxed') })
  await assert.rejects(sb.run('npm run build && npm test'), (e) => {
    assert.ok(e instanceof sc.PolicyDeniedError)
    assert.equal(e.code, 'POLICY_DENIED')
    assert.equal(e.decision.verdict, 'deny')
    return true
  })
  assert.equal(sb.check('pytest -q').verdict, 'allow')
  const ask = new sc.Sandbox({
    policy: sc.Policy.fromObject({ enforcement: 'enforce', require_approval: ['*://external-domain.com/*'] }),
  })
  await assert.rejects(ask.run('curl https://external-domain.com/x'), { code: 'APPROVAL_REQUIRED' })
  assert.throws(() => new sc.Sandbox({ backend: 'docker' }), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => new sc.Sandbox({ backend: 'docker', image: 'x', docker: { pool: 2 } }), /unknown field `pool`/)
  const savedHost = process.env.DOCKER_HOST
  process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock'
  assert.throws(() => new sc.Sandbox({ backend: 'docker', image: 'busybox' }), { code: 'BACKEND_UNAVAILABLE' })
  if (savedHost === undefined) delete process.env.DOCKER_HOST
  else process.env.DOCKER_HOST = savedHost
  assert.throws(() => new sc.Sandbox({ backend: 'kubernetes' }), { code: 'INVALID_ARGUMENT' })
  const saved = [process.env.KUBECONFIG, process.env.KUBERNETES_SERVICE_HOST]
  process.env.KUBECONFIG = '/nonexistent/kubeconfig'
  delete process.env.KUBERNETES_SERVICE_HOST
  assert.throws(() => new sc.Sandbox({ backend: 'kubernetes', image: 'busybox' }), (e) => {
    assert.equal(e.code, 'BACKEND_UNAVAILABLE')
    assert.match(e.message, /Kubernetes API server/)
    return true
  })
  if (saved[0] === undefined) delete process.env.KUBECONFIG
  else process.env.KUBECONFIG = saved[0]
  if (saved[1] !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved[1]
})

const CAPABILITIES = [
  'backend',
  'networkIsolation',
  'memoryLimit',
  'processLimit',
  'cpuLimit',
  'filesystemIsolation',
  'killsDescendants',
  'userNamespace',
  'pidNamespace',
  'readOnlyRoot',
  'denyRead',
  'landlock',
  'seccomp',
  'noNewPrivs',
  'closesDescriptors',
]

test('capabilities() shows the isolation of the default (required) backend', async () => {
  const sb = selfhosted()
  const caps = sb.capabilities()
  assert.deepEqual(Object.keys(caps).sort(), [...CAPABILITIES].sort())
  assert.equal(caps.backend, 'process')
  assert.equal(caps.readOnlyRoot, true)
  assert.equal(caps.pidNamespace, true)
  assert.equal(caps.seccomp, true)
  assert.equal(caps.denyRead, true)
  const r = await sb.run(['true'])
  assert.deepEqual(r.isolationSkipped, [])
  sb.close()
})

test('a run result says what was enforced for that run, never more than capabilities()', async () => {
  const sb = selfhosted()
  try {
    const { backend, ...caps } = sb.capabilities()
    assert.equal(backend, 'process')
    const r = await sb.run(['true'])
    assert.deepEqual(Object.keys(r.enforced).sort(), Object.keys(caps).sort())
    for (const [name, on] of Object.entries(r.enforced)) {
      if (on) assert.equal(caps[name], true, `${name} enforced but not a capability`)
    }
    // The default run gets every layer the backend has (and its default
    // memory and process limits).
    for (const name of ['networkIsolation', 'readOnlyRoot', 'pidNamespace', 'seccomp', 'noNewPrivs', 'denyRead']) {
      assert.equal(r.enforced[name], true, name)
    }
    assert.equal(r.enforced.memoryLimit, caps.memoryLimit)
    assert.equal(r.enforced.processLimit, caps.processLimit)
    // The network allowed and no process limit: neither is claimed.
    const open = await sb.run(['true'], { network: true, processes: 0 })
    assert.equal(open.ok, true)
    assert.equal(open.enforced.networkIsolation, false)
    assert.equal(open.enforced.processLimit, false)
    assert.equal(open.enforced.seccomp, true)
    assert.equal(open.enforced.readOnlyRoot, true)
  } finally {
    sb.close()
  }
})

test('bad timeouts are errors naming the option, never a crash', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted') })
  for (const bad of [1e30, Number.MAX_VALUE, -1, 0, NaN, -Infinity]) {
    await assert.rejects(sb.run(['true'], { timeout: bad }), (e) => {
      assert.equal(e.code, 'INVALID_ARGUMENT')
      assert.match(e.message, /timeoutMs must be a positive number of milliseconds/)
      return true
    })
  }
  assert.equal((await sb.run(['true'], { timeout: Infinity })).exitCode, 0)
  sb.close()
})

test('process options are checked by the core: unknown keys and wrong types throw', () => {
  const policy = sc.Policy.forMode('selfhosted')
  const invalid = (options, pattern) =>
    assert.throws(() => new sc.Sandbox({ policy, ...options }), (e) => {
      assert.ok(e instanceof sc.SandboxError, e)
      assert.equal(e.code, 'INVALID_ARGUMENT')
      assert.match(e.message, pattern)
      return true
    })
  invalid({ colour: 'blue' }, /unknown field `colour`, expected one of .*`isolation`/)
  invalid({ image: 'busybox' }, /unknown field `image`/)
  invalid({ isolation: 'strict' }, /option `isolation`: must be "required", "best-effort" or "off"/)
  invalid({ isolation: true }, /option `isolation`: invalid type: boolean/)
  invalid({ killGraceMs: -1 }, /option `killGraceMs`: must be a finite number of milliseconds >= 0, not -1/)
  invalid({ killGraceMs: NaN }, /option `killGraceMs`: must be a finite number, not NaN/)
  invalid({ killGrace: 'soon' }, /option `killGrace`: invalid type: string "soon"/)
  invalid({ killGrace: 1, killGraceMs: 1000 }, /not both/)
  invalid({ writable: '/var/tmp' }, /option `writable`: invalid type: string "\/var\/tmp", expected a sequence/)
  invalid({ denyRead: [1] }, /option `denyRead`: invalid type: integer/)
  invalid({ tmpSize: 1.5 }, /option `tmpSize`: must be a positive whole number of bytes/)
  invalid({ cwdWritable: 'yes' }, /option `cwdWritable`: invalid type: string/)
  invalid({ runAs: 'root' }, /option `runAs`: must be "auto", "current" or \[uid, gid\]/)
  invalid({ backend: 'docker', image: 'x', killGraceMs: 5 }, /unknown option `killGraceMs` for the docker backend/)
  // Every option, camelCase (snake_case is accepted as well).
  new sc.Sandbox({
    policy,
    isolation: 'best-effort',
    writable: ['/var/tmp'],
    denyRead: ['/etc/shadow'],
    protected: ['.hgrc'],
    tmpSize: 8 * 2 ** 30,
    cwdWritable: false,
    runAs: 'auto',
    cgroups: 'auto',
    networkIsolation: 'auto',
    killGrace: 0.5,
    inheritEnv: ['PATH'],
    allowSecrets: [],
    shell: '/bin/sh',
    auditLog: undefined,
  }).close()
  new sc.Sandbox({ policy, kill_grace_ms: 100, network_isolation: 'off' }).close()
})

test('isolation off is a plain process', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted'), isolation: 'off' })
  const caps = sb.capabilities()
  assert.equal(caps.readOnlyRoot, false)
  assert.equal(caps.pidNamespace, false)
  assert.equal(caps.seccomp, false)
  const r = await sb.run(['echo', 'plain'])
  assert.equal(r.stdout, 'plain\n')
  assert.deepEqual(r.isolationSkipped, [])
  sb.close()
})

/** A writable directory (0777: under root the command runs as a per-run
 * uid) and a world-writable one in /var/tmp that is not listed, with a
 * world-readable secret in it: only the isolation keeps the command out. */
function hostDirs() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-writable-'))
  const other = fs.mkdtempSync('/var/tmp/sbx-other-')
  fs.chmodSync(out, 0o777)
  fs.chmodSync(other, 0o777)
  const secret = path.join(other, 'secret.txt')
  fs.writeFileSync(secret, 'top-secret-value\n', { mode: 0o644 })
  fs.chmodSync(secret, 0o644)
  const cleanup = () => {
    fs.rmSync(out, { recursive: true, force: true })
    fs.rmSync(other, { recursive: true, force: true })
  }
  return { out, other, secret, cleanup }
}

test('writable directories are writable; the rest of the host is read-only', async () => {
  const { out, other, cleanup } = hostDirs()
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted'), writable: [out] })
  try {
    let r = await sb.run(`echo made > ${out}/made.txt`)
    assert.equal(r.ok, true, r.stderr)
    assert.equal(fs.readFileSync(path.join(out, 'made.txt'), 'utf8'), 'made\n')
    r = await sb.run(`echo no > ${other}/escaped.txt`)
    assert.equal(r.ok, false)
    assert.equal(fs.existsSync(path.join(other, 'escaped.txt')), false)
    // The same directory, writable for one run only.
    r = await sb.run(`echo once > ${other}/once.txt`, { writable: [other] })
    assert.equal(r.ok, true, r.stderr)
    assert.equal(fs.readFileSync(path.join(other, 'once.txt'), 'utf8'), 'once\n')
    r = await sb.run(`echo again > ${other}/again.txt`)
    assert.equal(r.ok, false)
    assert.equal(fs.existsSync(path.join(other, 'again.txt')), false)
  } finally {
    sb.close()
    cleanup()
  }
})

test('denyRead hides a file (it reads as empty) or a directory (unreadable)', async () => {
  const { other, secret, cleanup } = hostDirs()
  const policy = sc.Policy.forMode('selfhosted')
  const sandboxes = []
  const sandbox = (options) => {
    const sb = new sc.Sandbox({ policy, ...options })
    sandboxes.push(sb)
    return sb
  }
  try {
    const open = sandbox({})
    // Readable without denyRead: the test is not vacuous.
    assert.equal((await open.run(['cat', secret])).stdout, 'top-secret-value\n')
    // A hidden file reads as empty (/dev/null is in its place).
    let r = await open.run(['cat', secret], { denyRead: [secret] })
    assert.equal(r.stdout, '')
    r = await sandbox({ denyRead: [secret] }).run(['cat', secret])
    assert.equal(r.stdout, '')
    // A hidden directory cannot be read at all.
    r = await sandbox({ denyRead: [other] }).run(['cat', secret])
    assert.equal(r.ok, false)
    assert.equal(r.stdout, '')
    assert.ok(!r.stdout.includes('top-secret-value'))
  } finally {
    for (const sb of sandboxes) sb.close()
    cleanup()
  }
})

function running(marker) {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
  return out.split('\n').some((l) => l.includes(marker) && !l.includes('ps -eo'))
}

test('an AbortSignal stops the command and everything it started', async () => {
  const sb = selfhosted()
  const ac = new AbortController()
  const started = Date.now()
  setTimeout(() => ac.abort(), 300)
  await assert.rejects(sb.run('setsid sleep 1000.401 & sleep 1000.402', { signal: ac.signal }), (e) => {
    assert.ok(e instanceof sc.AbortError)
    return true
  })
  assert.ok(Date.now() - started < 2000)
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && running('sleep 1000.40')) await new Promise((r) => setTimeout(r, 50))
  assert.equal(running('sleep 1000.40'), false)
  const pre = new AbortController()
  pre.abort()
  await assert.rejects(sb.run('true', { signal: pre.signal }), { code: 'ABORTED' })
})

test('100 runs in flight at once without blocking the event loop', async () => {
  const sb = selfhosted()
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => sb.run(['echo', String(i)])))
  clearInterval(timer)
  assert.deepEqual(results.map((r) => r.stdout.trim()), Array.from({ length: 100 }, (_, i) => String(i)))
  assert.ok(ticks > 0, 'the event loop kept running')
  assert.match(sb.metrics(), /sandboxcore_executions_total\{backend="process",status="ok"\} 100/)
})

test('ESM import gives the same API', async () => {
  const esm = await import('../index.mjs')
  assert.equal(esm.classify('ls').argv[0], 'ls')
  assert.equal(esm.Sandbox, sc.Sandbox)
})

test('output streams through callbacks and the async iterator', async () => {
  const sb = selfhosted()
  const seen = []
  const started = Date.now()
  const r = await sb.run('echo first; sleep 1; echo second >&2', {
    onStdout: (d) => seen.push(['stdout', d.toString(), Date.now() - started]),
    onStderr: (d) => seen.push(['stderr', d.toString(), Date.now() - started]),
  })
  assert.equal(r.stdout, 'first\n')
  assert.deepEqual(seen.map((s) => s.slice(0, 2)), [['stdout', 'first\n'], ['stderr', 'second\n']])
  assert.ok(seen[0][2] < 900, `first chunk after ${seen[0][2]} ms`)
  const events = []
  for await (const ev of sb.stream(['sh', '-c', 'echo a; echo b >&2'])) events.push(ev)
  assert.equal(events.at(-1).type, 'exit')
  assert.equal(events.at(-1).result.exitCode, 0)
  assert.ok(events.some((e) => e.type === 'stdout' && e.data.toString() === 'a\n'))
  for await (const ev of sb.stream('echo x; sleep 1000.501')) {
    assert.equal(ev.type, 'stdout')
    break
  }
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && running('sleep 1000.501')) await new Promise((r) => setTimeout(r, 50))
  assert.equal(running('sleep 1000.501'), false)
})

test('a consumer that stops reading stops the command instead of buffering', async () => {
  const sb = selfhosted()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-stream-'))
  fs.chmodSync(dir, 0o777)
  const marker = path.join(dir, 'finished')
  let chunks = 0
  let bytes = 0
  // The directory is in /tmp, which is private to each run: it is made
  // writable (and so shared with the host) for this run.
  for await (const ev of sb.stream(`head -c 20000000 /dev/zero; touch ${marker}`, { writable: [dir] })) {
    if (ev.type === 'stdout') {
      chunks += 1
      bytes += ev.data.length
      if (chunks === 1) {
        await new Promise((r) => setTimeout(r, 700))
        // Unread output holds the command up: it has not got to the end.
        assert.equal(fs.existsSync(marker), false, 'the command ran ahead of its reader')
      }
    }
  }
  assert.equal(fs.existsSync(marker), true)
  assert.ok(bytes >= 1 << 20, `read ${bytes} bytes`)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('the docker backend runs commands in a hardened container', async (t) => {
  let sb
  try {
    sb = new sc.Sandbox({
      policy: sc.Policy.forMode('selfhosted'),
      backend: 'docker',
      image: 'sandboxcore-test:busybox',
      docker: { poolSize: 1 },
    })
  } catch (e) {
    skip(t, `no Docker: ${e.message}`)
    return
  }
  try {
    const r = await sb.run('id -u; touch /x')
    assert.equal(r.stdout, '1000\n')
    assert.match(r.stderr, /Read-only file system/)
    assert.equal(r.exitCode, 1)
    const again = await sb.run(['echo', 'two'])
    assert.equal(again.stdout, 'two\n')
    const slow = await sb.run('sleep 30', { timeout: 1000 })
    assert.equal(slow.timedOut, true)
  } finally {
    sb.close()
  }
})

test('run options are checked by the core: unknown names, wrong types, processes 0', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted') })
  for (const [options, pattern] of [
    [{ memory: '512M' }, /run option `memory`: must be a whole number/],
    [{ network_isolation: true }, /unknown run option `network_isolation`/],
    [{ env: { A: 1 } }, /run option `env`: must map strings to strings/],
  ]) {
    await assert.rejects(sb.run(['true'], options), (e) => {
      assert.equal(e.code, 'INVALID_ARGUMENT')
      assert.match(e.message, pattern)
      return true
    })
  }
  // 0 processes means no limit, as in the CLI (a limit of 0 could not run).
  assert.equal((await sb.run(['true'], { processes: 0 })).exitCode, 0)
  sb.close()
})

test('an array is an argv, run as given with no shell', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted') })
  const r = await sb.run(['echo', '-n', '$HOME; echo * | x'])
  assert.equal(r.stdout, '$HOME; echo * | x')
  assert.deepEqual(sb.check(['echo', 'a && b']).plan, { direct: ['echo', 'a && b'] })
  const strict = new sc.Sandbox({ policy: sc.Policy.forMode('saas_unsandboxed') })
  assert.notEqual(strict.check(['pytest', '-k', 'a; b']).verdict, 'deny')
  assert.equal(strict.check('pytest -k a; b').verdict, 'deny')
  assert.equal(
    sb.check(['sudo', 'bash', '-c', 'rm -rf /']).verdict,
    sb.check("sudo bash -c 'rm -rf /'").verdict,
  )
  assert.throws(() => sb.check([]), TypeError)
  sb.close()
  strict.close()
})

test('an approver decides on ask verdicts: yes, no, throwing, slow', async () => {
  const ask = sc.Policy.fromYaml('enforcement: enforce\nrequire_approval: ["*://external-domain.com/*"]\n')
  const asked = 'echo https://external-domain.com/x'
  const seen = []
  const yes = new sc.Sandbox({ policy: ask, approver: async (d) => { seen.push(d.verdict); return true } })
  assert.equal((await yes.run(asked)).stdout, 'https://external-domain.com/x\n')
  assert.equal((await yes.run('echo plain')).exitCode, 0)
  assert.deepEqual(seen, ['ask'])
  yes.close()
  const no = new sc.Sandbox({ policy: ask, approver: () => false })
  await assert.rejects(no.run(asked), (e) => {
    assert.ok(e instanceof sc.ApprovalRequiredError, e)
    assert.match(e.message, /approval refused/)
    assert.equal(e.decision.verdict, 'ask')
    return true
  })
  no.close()
  const broken = new sc.Sandbox({ policy: ask, approver: () => { throw new Error('no approver database') } })
  await assert.rejects(broken.run(asked), /approver rejected: .*no approver database/)
  broken.close()
  const slow = new sc.Sandbox({ policy: ask, approver: () => new Promise((r) => setTimeout(() => r(true), 3000).unref()) })
  const started = Date.now()
  await assert.rejects(slow.run(asked, { timeout: 500 }), /did not answer within/)
  assert.ok(Date.now() - started < 2000)
  slow.close()
  assert.throws(() => new sc.Sandbox({ policy: ask, approver: 42 }), TypeError)
})

test('approval scopes: once, session, persist, deny; invalid answers are reported', async () => {
  const text = 'enforcement: enforce  # keep\nrequire_approval: ["*://external-domain.com/*"]\n# end\n'
  const ask = sc.Policy.fromYaml(text)
  const asked = 'echo https://external-domain.com/x'
  const d = ask.check(asked)
  assert.equal(d.verdict, 'ask')
  assert.equal(d.proposedRule.rules[0].rule, 'echo https://external-domain.com/x')
  assert.equal(d.proposedRule.rules[0].extraOperands, 0)
  assert.equal(ask.check('echo plain').proposedRule, null)

  const counting = (answer) => {
    const seen = []
    return { seen, approver: async () => { seen.push(1); return answer } }
  }
  for (const [answer, asks] of [[true, 2], ['once', 2], ['session', 1], ['persist', 1]]) {
    const { seen, approver } = counting(answer)
    const sb = new sc.Sandbox({ policy: ask, approver })
    assert.equal((await sb.run(asked)).exitCode, 0)
    assert.equal((await sb.run(asked)).exitCode, 0)
    assert.equal(seen.length, asks, String(answer))
    sb.close()
  }
  for (const answer of [false, 'deny']) {
    const sb = new sc.Sandbox({ policy: ask, approver: () => answer })
    await assert.rejects(sb.run(asked), /approval refused/)
    sb.close()
  }
  const bad = new sc.Sandbox({ policy: ask, approver: () => 'always' })
  await assert.rejects(bad.run(asked), (e) => {
    assert.ok(e instanceof sc.ApprovalRequiredError, e)
    assert.match(e.message, /invalid approval "always"/)
    return true
  })
  assert.equal(bad.check(asked).verdict, 'ask')
  bad.close()

  // persist writes the policy file, comments kept.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sc-approve-'))
  try {
    const file = path.join(dir, 'policy.yml')
    fs.writeFileSync(file, text)
    const sb = new sc.Sandbox({ policy: sc.Policy.fromFile(file, { env: false }), policyFile: file, approver: () => 'persist' })
    assert.equal((await sb.run(asked)).exitCode, 0)
    sb.close()
    const written = fs.readFileSync(file, 'utf8')
    assert.ok(written.startsWith(text), written)
    assert.match(written, /approved_commands:\n  # approved /)
    assert.equal(sc.Policy.fromFile(file, { env: false }).check(asked).verdict, 'allow')
    assert.throws(() => new sc.Sandbox({ policy: ask, policyFile: 3 }), /policyFile must be a string/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('output crosses once, as Buffers; the text is decoded from them', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted') })
  const r = await sb.run(['printf', '\\377ok'])
  assert.ok(Buffer.isBuffer(r.stdoutBytes))
  assert.deepEqual([...r.stdoutBytes], [0xff, 0x6f, 0x6b])
  assert.equal(r.stdout, '\ufffdok')
  assert.equal(r.stdoutBase64, undefined)
  sb.close()
})

test('backend options table shared with Rust and Python', () => {
  // Each case through the parse-only entry (nothing contacted), and, where
  // no daemon or cluster would be reached (process options, and invalid
  // options of any backend: refused before connecting), through Sandbox
  // itself: the same code and message. Docker options go under `docker`.
  const native = require('../native.js')
  const table = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'data', 'options_parity.json'), 'utf8'))
  const policy = sc.Policy.forMode('selfhosted')
  const checked = new Set()
  for (const c of table.cases) {
    const backend = c.backend || 'process'
    const options = backend === 'docker' ? { backend, docker: c.options } : { backend, ...c.options }
    checked.add(`${backend} ${c.error === null}`)
    if (c.error === null) {
      assert.equal(c.code, null, JSON.stringify(c))
      native.checkBackendOptions(options)
      if (backend === 'process') new sc.Sandbox({ policy, ...options }).close()
      continue
    }
    for (const make of [() => native.checkBackendOptions(options), () => new sc.Sandbox({ policy, ...options })]) {
      assert.throws(make, (e) => {
        assert.equal(e.code, c.code, `${JSON.stringify(c)}: ${e.message}`)
        assert.ok(e.message.includes(c.error), `${JSON.stringify(c)}: ${e.message}`)
        return true
      })
    }
  }
  assert.equal(checked.size, 6, [...checked].join(', '))
})

test('random values for every option: a result or a typed error, never a crash', async () => {
  // A seeded generator (no dependency): the same values on every run.
  let seed = 0x5eed
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const pool = [
    undefined, null, true, false, 0, -1, 1.5, 1e30, -1e30, 2 ** 64, Number.MAX_VALUE, NaN, Infinity,
    -Infinity, '', 'x', '512M', '/', [], ['a'], [1, 2], {}, { a: 'b' }, { a: 1 }, () => 1, Symbol('s'),
  ]
  const pick = () => pool[rand(pool.length)]
  const runOptions = ['timeout', 'cwd', 'env', 'stdin', 'memory', 'processes', 'outputLimit', 'network', 'labels', 'writable', 'denyRead']
  const backendOptions = ['isolation', 'writable', 'denyRead', 'protected', 'tmpSize', 'cwdWritable', 'runAs', 'cgroups', 'networkIsolation', 'killGrace', 'killGraceMs', 'inheritEnv', 'allowSecrets', 'shell']
  const typed = (e) => e instanceof sc.SandboxError || e instanceof TypeError || e instanceof RangeError
  const policy = sc.Policy.forMode('selfhosted')
  const sb = new sc.Sandbox({ policy })
  for (let i = 0; i < 150; i++) {
    const name = runOptions[rand(runOptions.length)]
    try {
      const r = await sb.run(['true'], { [name]: pick() })
      assert.equal(typeof r.exitCode, 'number')
    } catch (e) {
      assert.ok(typed(e), `${name}: ${e}`)
    }
  }
  sb.close()
  for (let i = 0; i < 80; i++) {
    const name = backendOptions[rand(backendOptions.length)]
    try {
      new sc.Sandbox({ policy, [name]: pick() }).close()
    } catch (e) {
      assert.ok(typed(e), `${name}: ${e}`)
    }
  }
})

test('network: a switch, a mode, a list of hosts or { allow, deny }; bad entries are named', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted') })
  try {
    // An allowlist run reaches nothing but the egress proxy, which the
    // proxy variables name (no upstream is contacted here).
    for (const network of [{ allow: ['example.invalid'] }, ['example.invalid']]) {
      const r = await sb.run(['sh', '-c', 'echo "$HTTPS_PROXY"'], { network })
      assert.equal(r.stdout, 'http://127.0.0.1:3128\n', `${JSON.stringify(network)}: ${r.stderr}`)
    }
    for (const network of [undefined, null, false, 'none', true, 'full']) {
      const r = await sb.run(['sh', '-c', 'echo "${HTTPS_PROXY-unset}"'], { network })
      assert.equal(r.stdout, 'unset\n', String(network))
    }
    for (const [network, pattern] of [
      [{ allow: ['https://x.example/'] }, /run option `network\.allow\[0\]`: `https:\/\/x\.example\/` is not a host pattern/],
      [{ deny: ['*.'] }, /run option `network\.deny\[0\]`/],
      [['a.example', 443], /run option `network\[1\]`: must be a host/],
      [{ allow: [], requireApproval: ['*'] }, /unknown key `requireApproval` \(expected allow, deny\)/],
      ['allowlist', /run option `network`: must be true or false/],
    ]) {
      await assert.rejects(sb.run(['true'], { network }), (e) => {
        assert.equal(e.code, 'INVALID_ARGUMENT')
        assert.match(e.message, pattern)
        return true
      })
    }
  } finally {
    sb.close()
  }
})

test('the approver answers for connections too: { kind: "connection", host, port, scheme, rule }', async () => {
  const http = require('node:http')
  const server = http.createServer((req, res) => res.end('hello from the host\n'))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  const policy = sc.Policy.fromObject({
    enforcement: 'enforce',
    // The loopback address is special-purpose: only an address rule lets
    // the proxy reach it.
    network: { allow: ['127.0.0.1'] },
    require_approval: ['http://127.0.0.1/*'],
  })
  // NO_PROXY names loopback (the run's own): --noproxy '' sends even
  // 127.0.0.1 through the proxy, which connects from the host.
  const curl = ['curl', '-sS', '--noproxy', '', '--max-time', '20', `http://127.0.0.1:${port}/`]
  try {
    for (const answer of [true, false, 'throw']) {
      const seen = []
      const approver = async (request) => {
        seen.push(request)
        // The command names the URL, so it is asked about as well.
        if (request.kind === 'command') return true
        if (answer === 'throw') throw new Error('no connection database')
        return answer
      }
      const sb = new sc.Sandbox({ policy, approver })
      let r
      try {
        r = await sb.run(curl)
      } finally {
        sb.close()
      }
      assert.deepEqual(seen.map((x) => x.kind), ['command', 'connection'], r.stdout + r.stderr)
      assert.equal(seen[0].verdict, 'ask')
      assert.deepEqual(seen[1], {
        kind: 'connection',
        host: '127.0.0.1',
        port,
        scheme: 'http',
        rule: 'require_approval[0]: http://127.0.0.1/*',
      })
      if (answer === true) {
        assert.equal(r.ok, true, r.stderr)
        assert.equal(r.stdout, 'hello from the host\n')
      } else {
        // The proxy answers 403 itself, saying why.
        assert.doesNotMatch(r.stdout, /hello from the host/)
        assert.match(r.stdout, answer ? /no connection database/ : /approval refused/)
      }
    }
    // Decisions say they are about commands wherever they appear.
    assert.equal(policy.check('ls').kind, 'command')
  } finally {
    server.close()
  }
})
