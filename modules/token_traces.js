// cdktf records a JavaScript stack trace for every token it creates (`captureStackTrace`, as the AWS
// CDK does unless told not to), only to print it should that token fail to resolve. Under jsii those
// frames are the kernel's (`new Intrinsic`, `Token.asAny`, program.js), never the Python line that made
// the token, and capturing them costs ~8% of the synth CPU of a 600-resource stack. Preloaded through
// NODE_OPTIONS like lazy_provider.js (see modules/__init__.py), this makes cdktf's capture return no
// frames; nothing else changes, and the synthesized JSON is the same (tests/modules/test_provider_loading.py
// compares it with a synth on plain Node). AEGIS_TOKEN_STACK_TRACES=1 leaves this file out.
'use strict';

const Module = require('module');
const fs = require('fs');
const path = require('path');

const STACK_TRACE_MODULE = path.join('lib', 'tokens', 'private', 'stack-trace.js');

function isCdktfStackTrace(filename) {
  if (!filename.endsWith(path.sep + STACK_TRACE_MODULE)) {
    return false;
  }
  try {
    const manifest = path.join(filename, '..', '..', '..', '..', 'package.json');
    return JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'cdktf';
  } catch (error) {
    return false;
  }
}

const compileJs = Module._extensions['.js'];
Module._extensions['.js'] = function aegisNoTokenTraces(module, filename) {
  const result = compileJs(module, filename);
  if (isCdktfStackTrace(filename) && typeof module.exports.captureStackTrace === 'function') {
    module.exports.captureStackTrace = function captureStackTrace() { return []; };
  }
  return result;
};
