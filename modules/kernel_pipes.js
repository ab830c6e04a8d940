// The jsii kernel reads its requests from, and writes its answers to, Python's pipes directly.
//
// jsii's runtime is two Node processes: bin/jsii-runtime.js, started by Python, spawns lib/program.js
// (the kernel) and relays every request and every answer between Python's pipes and a socket on the
// kernel's fd 3, through Node streams. The relay does nothing else per message, yet it cost ~100 µs
// of CPU per round trip (0.10 s at 3 models, 0.23 s at 30 for the platform stack alone). Preloaded
// through NODE_OPTIONS like lazy_provider.js (see modules/__init__.py), this hands the kernel Python's
// pipes themselves: its fd 3 is the relay's stdin (requests), its fd 4 the relay's stdout (answers),
// and the relay stops piping. The kernel's own stdout and stderr still go through the relay, wrapped
// as before, and the protocol bytes are the same. Both files are rewritten or neither: the relay
// checks that the kernel's source has the one line it changes before it changes its own, and tells
// the kernel through AEGIS_KERNEL_PIPES, which the kernel removes from its environment.
// tests/modules/test_provider_loading.py checks the channel and compares the output with a run
// without this file (AEGIS_JSII_RELAY=1 leaves it out).
'use strict';

const Module = require('module');
const fs = require('fs');
const path = require('path');

const FLAG = 'AEGIS_KERNEL_PIPES';
const KERNEL_CHANNEL = 'readFD:3,writeFD:3}';
const DIRECT_CHANNEL = 'readFD:3,writeFD:4}';
// The relay's spawn of the kernel (its fd 3 a socket) and its piping of that socket to and from its own
// stdin and stdout, as jsii's bundled runtime writes them (minified names captured).
const RELAY_SPAWN = /\{stdio:\["ignore","pipe","pipe","pipe"\]\}\),([\w$]+)=([\w$]+)\.stdio\[3\];/;
const RELAY_PIPING = /process\.stdin\.pipe\(([\w$]+)\),\1\.pipe\(process\.stdout\)/;

function isRuntimeFile(filename, dir, name) {
  return path.basename(filename) === name && path.basename(path.dirname(filename)) === dir;
}

function once(source, pattern) {
  const found = typeof pattern === 'string' ? source.split(pattern).length - 1
    : (source.match(new RegExp(pattern.source, 'g')) || []).length;
  return found === 1;
}

function kernelSource(relayFile) {
  try {
    return fs.readFileSync(path.join(path.dirname(relayFile), '..', 'lib', 'program.js'), 'utf8');
  } catch (error) {
    return '';
  }
}

// The relay spawns the kernel with its own stdin as the kernel's fd 3 and its stdout as fd 4; the
// socket it piped becomes an ended stream, so its error and end-of-run handling stay as they are.
function directRelay(source, filename) {
  if (process.platform === 'win32') {
    return null;  // POSIX descriptors handed on by number; Windows keeps jsii's relay
  }
  const spawn = source.match(RELAY_SPAWN);
  const piping = source.match(RELAY_PIPING);
  if (!spawn || !piping || piping[1] !== spawn[1] || !once(source, RELAY_SPAWN) || !once(source, RELAY_PIPING) ||
      !once(kernelSource(filename), KERNEL_CHANNEL)) {
    return null;
  }
  const env = `env:Object.assign({},process.env,{${FLAG}:"1"})`;
  const ended = `new (require("stream").PassThrough)().end().resume()`;
  return source
    .replace(RELAY_SPAWN, `{stdio:["ignore","pipe","pipe",0,1],${env}}),${spawn[1]}=${ended};`)
    .replace(RELAY_PIPING, 'void 0');
}

// Rewritten where the source is compiled, whoever reads it: another loader hook that compiles one of
// these files itself (instead of calling through) still gets the rewrite, so the two ends always match.
const compile = Module.prototype._compile;
Module.prototype._compile = function aegisKernelPipes(content, filename) {
  if (isRuntimeFile(filename, 'bin', 'jsii-runtime.js')) {
    const rewritten = directRelay(content, filename);
    if (rewritten !== null) {
      return compile.call(this, rewritten, filename);
    }
    // jsii's own relay keeps the socket: a flag from the caller's environment would make the kernel it
    // spawns expect pipes that never come.
    delete process.env[FLAG];
  } else if (process.env[FLAG] === '1' && isRuntimeFile(filename, 'lib', 'program.js')) {
    delete process.env[FLAG];  // not for anything the kernel starts
    // The relay checked this line before it handed over its pipes; without it the kernel cannot talk.
    if (!once(content, KERNEL_CHANNEL)) {
      throw new Error(`aegis kernel_pipes.js: ${filename} does not read and write fd 3 as expected`);
    }
    return compile.call(this, content.replace(KERNEL_CHANNEL, DIRECT_CHANNEL), filename);
  }
  return compile.call(this, content, filename);
};
