#!/usr/bin/env node
// Whole-process harness for the BSI library (npm @secvisogram/csaf-validator-lib, installed by
// ../shared/bench/peers/csaf/install.sh): imports it, validates every file named on the command
// line with the library's own `basic.js` preset (strict schema + 6.1.x), and prints one JSON
// object: { load_ms, validate_ms, results: [{ file, valid, failed }] }.
// It contains none of the library's code; it only imports the installed package.
//
// Usage: node bsi_validate.mjs LIB_DIR FILE...
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [lib, ...files] = process.argv.slice(2)
if (!lib || !fs.existsSync(path.join(lib, 'package.json'))) {
  console.error('usage: node bsi_validate.mjs LIB_DIR FILE... (LIB_DIR: the installed package)')
  process.exit(2)
}
const t0 = process.hrtime.bigint()
const imp = (f) => import(pathToFileURL(path.join(lib, f)).href)
const validate = (await imp('lib/validate.js')).default
const basic = await imp('basic.js')
const tests = Object.values(basic).filter((x) => typeof x === 'function')
const t1 = process.hrtime.bigint()
const results = []
for (const file of files) {
  let doc
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (e) {
    results.push({ file, valid: false, failed: [], error: String(e) })
    continue
  }
  const res = await validate(tests, doc)
  results.push({ file, valid: res.isValid, failed: res.tests.filter((t) => !t.isValid).map((t) => t.name) })
}
const t2 = process.hrtime.bigint()
process.stdout.write(
  JSON.stringify({ load_ms: Number(t1 - t0) / 1e6, validate_ms: Number(t2 - t1) / 1e6, results }) + '\n',
)
