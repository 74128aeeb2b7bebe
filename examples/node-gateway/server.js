'use strict'
// A small HTTP gateway in the shape of the Dyad CLI gateway: agents POST a
// command, the sandbox checks it against the policy and runs it.
//
//   POST /v1/exec   Authorization: Bearer <key>   {"command": "...", "timeoutMs": 30000}
//                   -> 200 {result}, 403 {error: POLICY_DENIED, decision}, 401, 429, 400
//   GET  /metrics   Prometheus text (sandboxcore_* metrics)
//   GET  /healthz
//
// Keys come from GATEWAY_API_KEYS (comma-separated); each key may make
// RATE_LIMIT requests per RATE_WINDOW_MS. Audit lines go to AUDIT_LOG.
//
// A network-facing gateway enforces by default (DEFAULT_POLICY): high and
// critical risk is denied, and a command the policy asks about is answered
// 403 with its decision unless an `approver` is given. Relax it with
// `createGateway({ policy })` or POLICY_FILE (a policy file; see README.md).
//
// Run: node examples/node-gateway/server.js   (after `make node`)

const http = require('node:http')
const crypto = require('node:crypto')
const path = require('node:path')
const { Sandbox, Policy, SandboxError } = require(path.join(__dirname, '..', '..', 'bindings-node'))

const MAX_BODY = 64 * 1024

/** Fixed-window rate limiter per API key. */
function rateLimiter(limit, windowMs) {
  const windows = new Map()
  return (key) => {
    const now = Date.now()
    const w = windows.get(key)
    if (!w || now - w.start >= windowMs) {
      windows.set(key, { start: now, count: 1 })
      return true
    }
    w.count += 1
    return w.count <= limit
  }
}

function sameKey(a, b) {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

function send(res, status, body, type = 'application/json') {
  const text = type === 'application/json' ? JSON.stringify(body) : body
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (c) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * The default policy: the sandboxed-SaaS settings, enforced (the mode's
 * own default is `warn`, which lets a valid key run anything).
 */
const DEFAULT_POLICY = 'mode: saas_sandboxed\nenforcement: enforce\n'

/** The policy: options.policy, else POLICY_FILE, else DEFAULT_POLICY. */
function gatewayPolicy(options) {
  if (options.policy) return options.policy
  if (process.env.POLICY_FILE) return Policy.fromFile(process.env.POLICY_FILE)
  return Policy.fromYaml(DEFAULT_POLICY)
}

/**
 * Creates the gateway server (not yet listening). Options: apiKeys,
 * rateLimit, rateWindowMs, policy, approver (decides on `ask` verdicts;
 * without one they are 403), auditLog.
 */
function createGateway(options = {}) {
  const keys = (options.apiKeys || (process.env.GATEWAY_API_KEYS || '').split(',')).filter(Boolean)
  const allow = rateLimiter(options.rateLimit || Number(process.env.RATE_LIMIT || 60), options.rateWindowMs || Number(process.env.RATE_WINDOW_MS || 60000))
  const sandbox = new Sandbox({
    policy: gatewayPolicy(options),
    approver: options.approver,
    auditLog: options.auditLog || process.env.AUDIT_LOG || undefined,
  })

  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { ok: true })
      if (req.method === 'GET' && req.url === '/metrics') {
        return send(res, 200, sandbox.metrics(), 'application/openmetrics-text; version=1.0.0; charset=utf-8')
      }
      if (req.url !== '/v1/exec') return send(res, 404, { error: 'NOT_FOUND' })
      if (req.method !== 'POST') return send(res, 405, { error: 'METHOD_NOT_ALLOWED' })
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization || '')
      const key = auth && keys.find((k) => sameKey(k, auth[1]))
      if (!key) return send(res, 401, { error: 'UNAUTHORIZED' })
      if (!allow(key)) return send(res, 429, { error: 'RATE_LIMITED' })
      let body
      try {
        body = JSON.parse(await readBody(req))
      } catch (e) {
        return send(res, e.status || 400, { error: 'BAD_REQUEST', message: e.message })
      }
      const command = body && body.command
      const valid = typeof command === 'string' || (Array.isArray(command) && command.every((a) => typeof a === 'string'))
      if (!valid || command.length === 0) {
        return send(res, 400, { error: 'BAD_REQUEST', message: 'command must be a string or an array of strings' })
      }
      const timeout = Number.isFinite(body.timeoutMs) ? Math.min(Math.max(body.timeoutMs, 1), 300000) : 30000
      const abort = new AbortController()
      res.on('close', () => {
        if (!res.writableFinished) abort.abort()
      })
      try {
        const r = await sandbox.run(command, { timeout, signal: abort.signal, outputLimit: 1 << 20 })
        return send(res, 200, {
          exitCode: r.exitCode,
          signal: r.signal,
          timedOut: r.timedOut,
          oomKilled: r.oomKilled,
          stdout: r.stdout,
          stderr: r.stderr,
          stdoutTruncated: r.stdoutTruncated,
          stderrTruncated: r.stderrTruncated,
          durationMs: r.durationMs,
        })
      } catch (e) {
        if (!(e instanceof SandboxError)) throw e
        const status = { POLICY_DENIED: 403, APPROVAL_REQUIRED: 403, ABORTED: 499, INVALID_ARGUMENT: 400 }[e.code] || 500
        return send(res, status, { error: e.code, message: e.message, decision: e.decision })
      }
    } catch (e) {
      if (!res.headersSent) send(res, 500, { error: 'INTERNAL', message: String(e && e.message) })
    }
  })
  server.on('close', () => sandbox.close())
  return server
}

module.exports = { createGateway, DEFAULT_POLICY }

if (require.main === module) {
  const port = Number(process.env.PORT || 8080)
  createGateway().listen(port, '127.0.0.1', () => {
    console.log(`gateway listening on http://127.0.0.1:${port}`)
  })
}
