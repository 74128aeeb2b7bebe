// ESM entry: the same API as index.js.
import cjs from './index.js'

export const {
  classify,
  Policy,
  Sandbox,
  SandboxError,
  PolicyDeniedError,
  ApprovalRequiredError,
  PolicyError,
  BackendUnavailableError,
  ExecutionError,
  AbortError,
} = cjs
export default cjs
