'use strict';
// node js/npm/build.js [-out js/npm] [platform ...] (make js-npm): builds the per-platform npm
// packages of the native engine, in esbuild's model. For each platform of lib/platforms.js (or
// the ones named) it cross-compiles cmd/gognn-engine with GOOS/GOARCH (CGO_ENABLED=0: no C
// toolchain needed; static on Linux and FreeBSD) into <out>/<platform>/bin/, and writes the package.json that names it @gognn/<platform>
// with the `os` and `cpu` fields npm installs it by, at the main package's version. It also
// checks that the main package lists every platform package as an optional dependency of
// that version. Nothing is published.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platforms, packageName, binaryName } = require('../lib/platforms.js');

const root = path.join(__dirname, '..', '..');
const main = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

function parseArgs(argv) {
  let out = path.join(__dirname);
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-out') out = path.resolve(argv[++i]);
    else only.push(argv[i]);
  }
  for (const key of only) {
    if (!platforms[key]) throw new Error(`unknown platform ${key}: want one of ${Object.keys(platforms).join(', ')}`);
  }
  return { out, keys: only.length ? only : Object.keys(platforms) };
}

// checkOptionalDependencies fails unless the main package depends optionally on exactly the
// platform packages, at its own version.
function checkOptionalDependencies() {
  const want = Object.fromEntries(Object.keys(platforms).map((k) => [packageName(k), main.version]));
  const got = main.optionalDependencies || {};
  if (JSON.stringify(Object.entries(got).sort()) !== JSON.stringify(Object.entries(want).sort())) {
    throw new Error(`js/package.json optionalDependencies are ${JSON.stringify(got)}; want ${JSON.stringify(want)}`);
  }
}

function build(key, out) {
  const { goos, goarch } = platforms[key];
  const dir = path.join(out, key);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const bin = path.join(dir, 'bin', binaryName(key));
  execFileSync('go', ['build', '-ldflags=-s', '-o', bin, './cmd/gognn-engine'], {
    cwd: root, stdio: 'inherit', env: { ...process.env, GOOS: goos, GOARCH: goarch, CGO_ENABLED: '0' },
  });
  const [os, cpu] = key.split('-');
  const pkg = {
    name: packageName(key),
    version: main.version,
    description: `The native engine of gognn for ${goos}/${goarch} (installed by gognn as an optional dependency)`,
    license: main.license, // Apache-2.0, as the repository
    preferUnplugged: true,
    os: [os],
    cpu: [cpu],
    files: ['bin/'],
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${pkg.name}\n\nThe native engine (cmd/gognn-engine) of the \`gognn\` package for ${goos}/${goarch}. Install \`gognn\`, not this package: it picks this one up when npm installs it on a matching machine.\n`);
  return { key, bytes: fs.statSync(bin).size };
}

try {
  const { out, keys } = parseArgs(process.argv.slice(2));
  checkOptionalDependencies();
  for (const key of keys) {
    const r = build(key, out);
    console.log(`${packageName(key)}: ${path.relative(root, path.join(out, key))} (${(r.bytes / 1e6).toFixed(1)} MB engine)`);
  }
} catch (err) {
  console.error(`npm/build.js: ${err.message}`);
  process.exit(1);
}
