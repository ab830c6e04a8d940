// The jsii kernel builds the message of its "expected type information" assertion only when it fails.
//
// Each value the kernel converts (a create's props, a map entry, a list element, an `any`) is looked
// up by its type reference; references made for map and list elements are new objects, so the lookup
// is not cached, and it called `assert(typeRef != null, `... ${inspect(typeRef)}`)`: the template
// literal formats the reference with util.inspect before `assert` looks at the condition. That was
// ~40 µs of the ~190 µs of kernel CPU a small resource's create costs. Preloaded through NODE_OPTIONS
// like lazy_provider.js (see modules/__init__.py), this rewrites that one expression of jsii's bundled
// kernel (lib/program.js) to `typeRef != null || assert(false, `... ${inspect(typeRef)}`)`: the same
// error with the same message when the reference is missing, no formatting when it is not. A kernel
// without that exact expression is compiled as it is. tests/modules/test_provider_loading.py checks the
// rewrite, and the eager synth there (plain Node) compares the output. AEGIS_EAGER_KERNEL_MESSAGES=1
// leaves this file out.
'use strict';

const Module = require('module');
const path = require('path');

const EAGER_MESSAGE = new RegExp(
  String.raw`\(0,([\w$]+)\.default\)\(null!=([\w$]+),` +
  String.raw`(\x60Kernel error: expected type information, got \$\{\(0,[\w$]+\.inspect\)\(\2\)\}\x60)\)`, 'g');

function lazyMessage(source) {
  const found = source.match(EAGER_MESSAGE) || [];
  return found.length === 1 ? source.replace(EAGER_MESSAGE, '(null!=$2||(0,$1.default)(!1,$3))') : source;
}

// Rewritten where Node compiles the kernel, so it composes with kernel_pipes.js's rewrite of the same file.
const compile = Module.prototype._compile;
Module.prototype._compile = function aegisKernelMessages(content, filename) {
  if (path.basename(filename) === 'program.js' && path.basename(path.dirname(filename)) === 'lib') {
    return compile.call(this, lazyMessage(content), filename);
  }
  return compile.call(this, content, filename);
};

module.exports = { lazyMessage };
