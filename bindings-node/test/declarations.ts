// Type-checked by `tsc --noEmit -p test/tsconfig.json` (npm test): the
// addon's declarations as napi generates them from src/lib.rs (native.d.ts)
// against the hand-written ones users see (index.d.ts), which index.js
// bridges. Each `Assert<...>` compiles only when the two sides agree; a
// change to a native signature that index.d.ts does not follow (or the
// other way) fails the build.
//
// The addon returns classifications, decisions and capabilities as JSON
// values and names their types with `ts_return_type`: native.d.ts refers
// to `Classification`, `Decision`, `Capabilities` and `ConnectionRequest`
// without defining them. They are index.d.ts's types (declared global
// below, for native.d.ts); that the objects really have those shapes (and
// the run results, which cross untyped) is checked at run time by
// declarations.test.js, against index.d.ts read by the TypeScript compiler.
import type * as native from '../native'
import type * as api from '../index'

declare global {
  type Classification = api.Classification
  type Decision = api.Decision
  type Capabilities = api.Capabilities
  type ConnectionRequest = api.ConnectionRequest
}

/** Compiles only for `true`. */
type Assert<T extends true> = T
/** Whether A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
/** Whether A is assignable to B. */
type Fits<A, B> = [A] extends [B] ? true : false

type NativeSandbox = native.NativeSandbox
type NativeArgs = ConstructorParameters<typeof native.NativeSandbox>
type Some<T> = Exclude<T, null | undefined>

export type Checks = [
  // classify(command: string): Classification
  Assert<Same<Parameters<typeof native.classify>, Parameters<typeof api.classify>>>,
  Assert<Same<ReturnType<typeof native.classify>, api.Classification>>,

  // Policy: the factories take what index.d.ts says (forMode a mode name,
  // fromFile `{ env }` passed on as a flag) and check returns a Decision.
  Assert<Same<Parameters<typeof native.Policy.fromYaml>, Parameters<typeof api.Policy.fromYaml>>>,
  Assert<Fits<Parameters<typeof api.Policy.fromObject>[0], Parameters<typeof native.Policy.fromObject>[0]>>,
  Assert<Fits<api.DeploymentMode, Parameters<typeof native.Policy.forMode>[0]>>,
  Assert<Same<Parameters<typeof native.Policy.fromFile>[0], Parameters<typeof api.Policy.fromFile>[0]>>,
  Assert<
    Fits<Some<Parameters<typeof api.Policy.fromFile>[1]>['env'], Parameters<typeof native.Policy.fromFile>[1]>
  >,
  Assert<Fits<Parameters<typeof api.Policy.fromLayers>[0], Parameters<typeof native.Policy.fromLayers>[0]>>,
  Assert<
    Fits<Some<Parameters<typeof api.Policy.fromLayers>[1]>['env'], Parameters<typeof native.Policy.fromLayers>[1]>
  >,
  Assert<Same<Parameters<native.Policy['check']>, Parameters<api.Policy['check']>>>,
  Assert<Same<ReturnType<native.Policy['check']>, api.Decision>>,
  Assert<Same<native.Policy['settings'], api.Policy['settings']>>,

  // Sandbox: a command is a line or an argv on both sides.
  Assert<Same<Parameters<NativeSandbox['check']>[0], api.Command>>,
  Assert<Same<Parameters<api.Sandbox['check']>[0], api.Command>>,
  Assert<Same<ReturnType<NativeSandbox['check']>, ReturnType<api.Sandbox['check']>>>,
  Assert<Same<Parameters<NativeSandbox['runNative']>[1], api.Command>>,
  Assert<Same<ReturnType<NativeSandbox['capabilities']>, ReturnType<api.Sandbox['capabilities']>>>,
  Assert<Same<ReturnType<NativeSandbox['metrics']>, ReturnType<api.Sandbox['metrics']>>>,
  // The constructor: a native Policy, and the approver index.js makes
  // from the user's (always a promise of a boolean or a scope) for the same requests.
  Assert<Same<Some<NativeArgs[0]>, native.Policy>>,
  Assert<
    Same<
      Parameters<Some<api.SandboxOptions['approver']>>[0],
      Parameters<Some<NativeArgs[2]>>[0]
    >
  >,
  Assert<Same<ReturnType<Some<NativeArgs[2]>>, Promise<boolean | string>>>,

  // A run's output crosses as Buffers, which Result keeps as they came.
  Assert<Same<Some<native.NativeRunResult['stdout']>, api.Result['stdoutBytes']>>,
  Assert<Same<Some<native.NativeRunResult['stderr']>, api.Result['stderrBytes']>>,
  Assert<Same<Awaited<ReturnType<NativeSandbox['runNative']>>, native.NativeRunResult>>,
  // Streamed chunks: their kinds are the stream's output event types.
  Assert<Fits<Extract<api.StreamEvent, { data: Buffer }>['type'], native.OutputChunk['kind']>>,
  Assert<Same<native.OutputChunk['data'], Extract<api.StreamEvent, { data: Buffer }>['data']>>,
]
