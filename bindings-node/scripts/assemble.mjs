// Assembles the Node package from the addon the workspace build made, and
// writes what `napi build --platform --js native.js --dts native.d.ts`
// writes: the `.node` file, the loader `native.js` and the declarations
// `native.d.ts`, through @napi-rs/cli's own `generateTypeDef` and
// `writeJsBinding` (so both files are napi's output, not ours).
//
// Why not `napi build`: it always passes cargo an explicit `--target`,
// which gives the addon a dependency tree of its own under
// target/<triple>/ — a second full compile in every CI run. The workspace
// build (`cargo build --workspace`, run by `make node` with
// NAPI_TYPE_DEF_TMP_FOLDER set so that napi-derive records the type
// definitions) already links this crate's cdylib.
//
// Usage: node scripts/assemble.mjs <libsandboxcore_node.so> <type-def dir> <host triple> [out dir]
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef, parseTriple, writeJsBinding } from '@napi-rs/cli'

const here = dirname(dirname(fileURLToPath(import.meta.url)))
const [lib, typeDefDir, triple, outArg] = process.argv.slice(2)
if (!lib || !typeDefDir || !triple) {
  console.error('usage: assemble.mjs <addon .so> <type-def dir> <host triple> [out dir]')
  process.exit(2)
}
const out = resolve(outArg ?? here)
const pkg = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'))
const binaryName = pkg.napi.binaryName
if (!existsSync(join(typeDefDir, 'sandboxcore-node'))) {
  console.error(`no type definitions in ${typeDefDir}: build the workspace with NAPI_TYPE_DEF_TMP_FOLDER set (make node does)`)
  process.exit(1)
}

const { platformArchABI } = parseTriple(triple)
const addon = join(out, `${binaryName}.${platformArchABI}.node`)
// Copy then rename: a running process may have the old file mapped.
await copyFile(lib, `${addon}.tmp`)
await rename(`${addon}.tmp`, addon)

// napi-derive appends one JSON line per item each time it expands the
// crate; a line seen twice is the same item (napi's own build starts from
// an empty folder for the same reason).
const lines = (await readFile(join(typeDefDir, 'sandboxcore-node'), 'utf8')).split('\n').filter(Boolean)
const unique = await mkdtemp(join(tmpdir(), 'sandboxcore-typedefs-'))
await writeFile(join(unique, 'sandboxcore-node'), [...new Set(lines)].join('\n') + '\n')
const { exports, dts } = await generateTypeDef({
  typeDefDir: unique,
  cwd: here,
  // As `napi build --platform` decides: a loader is written when the addon
  // exports something, and its declarations then name the loaded target.
  declareBindingTarget: (generated) => generated.length > 0,
})
await rm(unique, { recursive: true, force: true })
if (exports.length === 0) {
  console.error(`the type definitions in ${typeDefDir} export nothing`)
  process.exit(1)
}
await writeFile(join(out, 'native.d.ts'), dts)
await writeJsBinding({
  platform: true,
  idents: exports,
  jsBinding: 'native.js',
  binaryName,
  packageName: pkg.name,
  version: pkg.version,
  outputDir: out,
})
