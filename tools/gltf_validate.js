#!/usr/bin/env node
// Validate a .glb/.gltf with the Khronos glTF-Validator (npm "gltf-validator", see package.json).
//
// usage: node tools/gltf_validate.js FILE [--full]
// Prints one JSON object: {"file", "validatorVersion", "numErrors", "numWarnings", "numInfos",
// "numHints", "messages": [first 20 errors and warnings]} (--full prints the validator's whole report).
// Exit status: 0 valid, 1 errors found, 2 bad usage or the file could not be read/parsed.
"use strict";

const fs = require("fs");
const path = require("path");

function fail(msg) {
  process.stderr.write(`gltf_validate: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const full = args.includes("--full");
const files = args.filter((a) => a !== "--full");
if (files.length !== 1) fail("usage: node tools/gltf_validate.js FILE [--full]");

let validator;
try {
  validator = require("gltf-validator");
} catch (e) {
  fail("the npm package gltf-validator is not installed: run `npm ci` in the repository root");
}

const file = path.resolve(files[0]);
let bytes;
try {
  bytes = new Uint8Array(fs.readFileSync(file));
} catch (e) {
  fail(`cannot read ${file}: ${e.message}`);
}

validator
  .validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 0, // report every issue
    writeTimestamp: false,
    externalResourceFunction: (uri) =>
      new Promise((resolve, reject) => {
        fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)), (err, data) =>
          err ? reject(err.toString()) : resolve(new Uint8Array(data)),
        );
      }),
  })
  .then((report) => {
    const issues = report.issues || {};
    const out = full
      ? report
      : {
          file,
          validatorVersion: report.validatorVersion,
          numErrors: issues.numErrors,
          numWarnings: issues.numWarnings,
          numInfos: issues.numInfos,
          numHints: issues.numHints,
          messages: (issues.messages || []).filter((m) => m.severity <= 1).slice(0, 20),
        };
    process.stdout.write(JSON.stringify(out, null, full ? 2 : 0) + "\n");
    process.exitCode = issues.numErrors > 0 ? 1 : 0;
  })
  .catch((err) => fail(`validator could not read ${file}: ${err}`));
