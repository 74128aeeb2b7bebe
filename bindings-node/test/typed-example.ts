// Type-checked with `tsc --noEmit` (npm test): the declarations describe
// the API as a gateway uses it.
import { Sandbox, Policy, PolicyDeniedError, classify, type Result, type Decision } from '../index'

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

const c = classify('ls -la')
const argv: string[] | null = c.argv
void argv
void handle(['echo', 'hi'], new AbortController().signal)
