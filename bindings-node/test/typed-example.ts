// Type-checked with `tsc --noEmit` (npm test): the declarations describe
// the API as a gateway uses it.
import {
  Sandbox,
  Policy,
  PolicyDeniedError,
  classify,
  type Result,
  type Decision,
  type Capabilities,
  type ConnectionRequest,
  type NetworkAccess,
} from '../index'

async function handle(command: string | string[], signal: AbortSignal): Promise<Result | Decision> {
  const sandbox = new Sandbox({ policy: Policy.forMode('saas_sandboxed'), cgroups: 'auto' })
  try {
    return await sandbox.run(command, { timeout: 30_000, signal, outputLimit: 1 << 20 })
  } catch (e) {
    if (e instanceof PolicyDeniedError && e.decision) return e.decision
    throw e
  } finally {
    sandbox.close()
  }
}

async function tail(sandbox: Sandbox): Promise<number | null> {
  let last: number | null = null
  for await (const ev of sandbox.stream('make test')) {
    if (ev.type === 'exit') last = ev.result.exitCode
    else process.stdout.write(ev.data)
  }
  return last
}
void tail

function isolated(workspace: string): [Sandbox, Capabilities] {
  const sandbox = new Sandbox({
    policy: Policy.forMode('selfhosted'),
    isolation: 'best-effort',
    writable: [workspace],
    denyRead: ['/etc/shadow'],
    tmpSize: 64 << 20,
    runAs: [1000, 1000],
    killGraceMs: 500,
  })
  return [sandbox, sandbox.capabilities()]
}
async function skipped(sandbox: Sandbox, dir: string): Promise<boolean> {
  const r = await sandbox.run('touch out', { cwd: dir, writable: [dir], denyRead: [`${dir}/.env`] })
  const layers: string[] = r.isolationSkipped
  return sandbox.capabilities().readOnlyRoot && layers.length === 0
}
void isolated
void skipped

const c = classify('ls -la')
const argv: string[] | null = c.argv
void argv
void handle(['echo', 'hi'], new AbortController().signal)

// Approvals for commands and for an allowlist run's connections, told
// apart by `kind`.
function withNetwork(): Sandbox {
  const approver = (request: Decision | ConnectionRequest): boolean =>
    request.kind === 'connection' ? request.host.endsWith('.example.com') && request.port === 443 : request.verdict === 'ask'
  return new Sandbox({ policy: Policy.forMode('selfhosted'), approver })
}
async function fetchDeps(sandbox: Sandbox): Promise<Result[]> {
  const hosts: NetworkAccess = ['pypi.org', '*.pythonhosted.org']
  return [
    await sandbox.run('pip download requests', { network: hosts }),
    await sandbox.run('pip download requests', { network: { allow: ['*'], deny: ['evil.example'] } }),
    await sandbox.run('true', { network: 'none' }),
    await sandbox.run('true', { network: true }),
  ]
}
void withNetwork
void fetchDeps
