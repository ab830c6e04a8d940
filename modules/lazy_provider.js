// Node side of the lazy provider loading (the Python side is modules/aws.py).
//
// The jsii kernel loads @cdktf/provider-aws with `require`, and its lib/index.js is 2,212 lines of
// `exports.<name> = require("./<dir>");`: every resource's JS module is compiled up front (~4 s and
// ~400 MB on Node 20) although an app uses about a hundred. Preloaded through NODE_OPTIONS (see
// modules/__init__.py), this turns each such line of that one file into a getter that requires the
// submodule on first use and then stays a plain property. Nothing else changes: the kernel finds a
// class by walking the exports (`s3Bucket` → `S3Bucket`), which goes through the getter. Any other
// file, or a line of another shape, is compiled as it is. tests/modules/test_provider_loading.py
// compares the output with the eager import, which runs without this file.
'use strict';

const Module = require('module');
const fs = require('fs');
const path = require('path');

const PACKAGE = '@cdktf/provider-aws';
const EAGER_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/gm;
const DATA = 'enumerable: true, writable: true, configurable: true';

function isProviderIndex(filename) {
  if (path.basename(filename) !== 'index.js' || path.basename(path.dirname(filename)) !== 'lib') {
    return false;
  }
  try {
    const manifest = path.join(path.dirname(path.dirname(filename)), 'package.json');
    return JSON.parse(fs.readFileSync(manifest, 'utf8')).name === PACKAGE;
  } catch (error) {
    return false;
  }
}

// One line in, one line out: line numbers (and the inline source map) stay valid.
function lazyLine(line, name, request) {
  const key = JSON.stringify(name);
  const load = `require(${JSON.stringify(request)})`;
  return `Object.defineProperty(exports, ${key}, { enumerable: true, configurable: true, ` +
    `get: function () { var v = ${load}; Object.defineProperty(exports, ${key}, { value: v, ${DATA} }); return v; }, ` +
    `set: function (v) { Object.defineProperty(exports, ${key}, { value: v, ${DATA} }); } });`;
}

const compileJs = Module._extensions['.js'];
Module._extensions['.js'] = function aegisLazyProvider(module, filename) {
  if (isProviderIndex(filename)) {
    const source = fs.readFileSync(filename, 'utf8');
    const rewritten = source.replace(EAGER_LINE, lazyLine);
    if (rewritten !== source) {
      return module._compile(rewritten, filename);
    }
  }
  return compileJs(module, filename);
};
