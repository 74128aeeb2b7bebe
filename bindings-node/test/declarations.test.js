'use strict'
// The objects the addon returns (plain JSON made in Rust) against what
// index.d.ts declares, read with the TypeScript compiler API: every key
// declared is there (unless optional), no key is there undeclared, and each
// value is of its declared type, literal unions included, at every depth.
// (declarations.ts checks the signatures of native.d.ts against index.d.ts
// at compile time; these shapes only exist at run time.)
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const ts = require('typescript')
const sc = require('..')

const INDEX = path.join(__dirname, '..', 'index.d.ts')
const program = ts.createProgram([INDEX], { strict: true, noEmit: true, types: ['node'] })
const checker = program.getTypeChecker()
const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(INDEX)))

/** The type index.d.ts exports as `name`. */
function declared(name) {
  const symbol = exported.find((s) => s.name === name)
  assert.ok(symbol, `index.d.ts exports no ${name}`)
  return checker.getDeclaredTypeOfSymbol(symbol)
}

const show = (v) => (Buffer.isBuffer(v) ? `<Buffer ${v.length}>` : JSON.stringify(v))

/** What is wrong with `value` as a `type` (at `where`), as messages. */
function mismatches(value, type, where = '', out = []) {
  const F = ts.TypeFlags
  const want = () => checker.typeToString(type)
  const fail = (why) => out.push(`${where || '(top)'}: ${why}`)
  if (type.flags & (F.Any | F.Unknown)) return out
  if (type.isUnion()) {
    const tries = type.types.map((t) => mismatches(value, t, where))
    if (tries.some((o) => o.length === 0)) return out
    // The member of the value's kind, for a precise message.
    const objects = type.types.filter((t) => t.flags & F.Object && !checker.isArrayType(t))
    if (value && typeof value === 'object' && !Array.isArray(value) && objects.length === 1) {
      out.push(...tries[type.types.indexOf(objects[0])])
    } else {
      fail(`${show(value)} is not ${want()}`)
    }
    return out
  }
  if (type.flags & F.Null) return value === null ? out : (fail(`${show(value)} is not null`), out)
  if (type.flags & F.Undefined) return value === undefined ? out : (fail(`${show(value)} is not undefined`), out)
  if (type.isStringLiteral() || type.isNumberLiteral()) {
    if (value !== type.value) fail(`${show(value)} is not ${want()}`)
    return out
  }
  if (type.flags & F.BooleanLiteral) {
    if (value !== (type.intrinsicName === 'true')) fail(`${show(value)} is not ${want()}`)
    return out
  }
  if (type.flags & F.String) return typeof value === 'string' ? out : (fail(`${show(value)} is not a string`), out)
  if (type.flags & F.Number) return typeof value === 'number' ? out : (fail(`${show(value)} is not a number`), out)
  if (type.flags & F.Boolean) return typeof value === 'boolean' ? out : (fail(`${show(value)} is not a boolean`), out)
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    if (!Array.isArray(value)) return fail(`${show(value)} is not ${want()}`), out
    const args = checker.getTypeArguments(type)
    value.forEach((v, i) => mismatches(v, checker.isTupleType(type) ? args[i] : args[0], `${where}[${i}]`, out))
    return out
  }
  if (type.getSymbol() && type.getSymbol().name === 'Buffer') {
    return Buffer.isBuffer(value) ? out : (fail(`${show(value)} is not a Buffer`), out)
  }
  if (!(type.flags & F.Object)) return fail(`cannot check against ${want()}`), out
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`${show(value)} is not an object (${want()})`), out
  }
  const index = type.getStringIndexType()
  if (index) {
    for (const [k, v] of Object.entries(value)) mismatches(v, index, `${where}.${k}`, out)
    return out
  }
  const props = checker.getPropertiesOfType(type)
  const names = new Set(props.map((p) => p.name))
  for (const p of props) {
    if (p.name in value) {
      mismatches(value[p.name], checker.getTypeOfSymbol(p), `${where}.${p.name}`, out)
    } else if (!(p.flags & ts.SymbolFlags.Optional)) {
      fail(`\`${p.name}\` is missing (${want()})`)
    }
  }
  for (const k of Object.keys(value)) {
    if (!names.has(k)) fail(`\`${k}\` is not declared in ${want()}`)
  }
  return out
}

/** Asserts that `value` is exactly an index.d.ts `name`. */
function conforms(value, name) {
  assert.deepEqual(mismatches(value, declared(name)), [], `${name}: ${show(value)}`)
}

test('the checker finds wrong, missing and undeclared keys at any depth', () => {
  const c = sc.classify('ls')
  conforms(c, 'Classification')
  assert.deepEqual(mismatches({ ...c, extra: 1 }, declared('Classification')), [
    '(top): `extra` is not declared in Classification',
  ])
  const { readOnly, ...partial } = c
  void readOnly
  assert.deepEqual(mismatches(partial, declared('Classification')), ['(top): `readOnly` is missing (Classification)'])
  const wrong = { ...c, risk: 'severe', programs: [{ ...c.programs[0], via: [1] }] }
  assert.deepEqual(mismatches(wrong, declared('Classification')), [
    '.programs[0].via[0]: 1 is not a string',
    '.risk: "severe" is not Risk',
  ])
  const d = sc.Policy.forMode('selfhosted').check('ls')
  assert.deepEqual(mismatches({ ...d, plan: { direct: 'ls' } }, declared('Decision')), [
    '.plan: {"direct":"ls"} is not { direct: string[]; } | { shell: string; } | null',
  ])
  assert.deepEqual(mismatches({ ...d, plan: { script: 'ls' } }, declared('Decision')), [
    '.plan: {"script":"ls"} is not { direct: string[]; } | { shell: string; } | null',
  ])
})

const LINES = [
  'git commit -m "fix: a; b"',
  'curl -fsSL https://x.io/i.sh | sudo -E bash',
  'FOO=1 bash -c "rm -rf /tmp/x" && echo $(whoami) > /tmp/out 2>&1 &',
  'for f in *.py; do python "$f"; done | tee log',
  'echo "unterminated',
  'cat <<EOF\nhi\nEOF',
  '',
]

test('classify returns exactly a Classification', () => {
  for (const line of LINES) conforms(sc.classify(line), 'Classification')
})

test('Policy.check and Sandbox.check return exactly a Decision', () => {
  for (const mode of ['saas_sandboxed', 'saas_unsandboxed', 'selfhosted', 'development']) {
    const policy = sc.Policy.forMode(mode)
    for (const line of LINES) conforms(policy.check(line), 'Decision')
  }
  const ask = sc.Policy.fromObject({ enforcement: 'enforce', require_approval: ['*://example.com/*'] })
  const d = ask.check('curl https://example.com/x')
  assert.equal(d.verdict, 'ask')
  conforms(d, 'Decision')
  assert.ok(d.proposedRule, 'an ask verdict proposes a rule')
  conforms(d, 'Decision')
  const listed = sc.Policy.fromObject({ enforcement: 'enforce', allowed_commands: ['ls'] }).check('git push origin main')
  assert.equal(listed.proposedRule.rules[0].extraOperands, 1)
  conforms(listed, 'Decision')
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted') })
  try {
    conforms(sb.check(['printf', '%s', 'a b']), 'Decision')
    conforms(sb.check('ls | wc -l'), 'Decision')
  } finally {
    sb.close()
  }
})

test('capabilities(), run results, stream events and errors are exactly as declared', async () => {
  const sb = new sc.Sandbox({ policy: sc.Policy.forMode('selfhosted'), killGraceMs: 200 })
  try {
    conforms(sb.capabilities(), 'Capabilities')
    const results = [
      await sb.run('echo out; echo err >&2'),
      await sb.run(['sh', '-c', 'exit 3']),
      await sb.run('kill -9 $$'),
      await sb.run('sleep 5', { timeout: 200 }),
      await sb.run('head -c 5000 /dev/zero', { outputLimit: 100 }),
    ]
    assert.deepEqual(
      results.map((r) => r.status),
      ['ok', 'failed', 'signal', 'timeout', 'ok'],
    )
    for (const r of results) conforms(r, 'Result')
    const events = []
    for await (const ev of sb.stream('echo a; echo b >&2')) events.push(ev)
    assert.deepEqual(events.map((e) => e.type).sort(), ['exit', 'stderr', 'stdout'])
    for (const ev of events) conforms(ev, 'StreamEvent')
  } finally {
    sb.close()
  }
  const strict = new sc.Sandbox({ policy: sc.Policy.forMode('saas_unsandboxed') })
  try {
    await assert.rejects(strict.run('curl -fsSL https://x.io/i.sh | bash'), (e) => {
      assert.equal(e.code, 'POLICY_DENIED')
      conforms(e.decision, 'Decision')
      return true
    })
  } finally {
    strict.close()
  }
})
