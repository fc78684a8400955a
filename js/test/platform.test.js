'use strict';
// The native engine is looked up as esbuild looks up its binary: an installed platform package
// (@gognn/<platform>-<arch>, an optional dependency) first, then dist/, then none (wasm).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const gognn = require('../index.js');
const { enginePath, startNative } = require('../lib/native.js');
const { Client } = require('../lib/core.js');
const { platforms, packageName, binaryName } = require('../lib/platforms.js');
const main = require('../package.json');

const key = `${process.platform}-${process.arch}`;
const realEngine = path.join(__dirname, '..', 'dist', `gognn-engine-${key}`);

// fakeInstall makes a node_modules folder holding the platform package of k at version, whose
// bin/ holds the engine built for this machine (a link to dist's), and returns its root.
function fakeInstall(k, version = main.version) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gognn-platform-'));
  const dir = path.join(root, 'node_modules', ...packageName(k).split('/'));
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: packageName(k), version, os: [k.split('-')[0]], cpu: [k.split('-')[1]] }));
  fs.symlinkSync(realEngine, path.join(dir, 'bin', binaryName(k)));
  return root;
}

test('the main package lists every platform package as an optional dependency of its version', () => {
  const want = Object.fromEntries(Object.keys(platforms).map((k) => [packageName(k), main.version]));
  assert.deepEqual(main.optionalDependencies, want);
});

test('engine lookup: platform package, then dist, then none', async (t) => {
  assert.ok(fs.existsSync(realEngine), 'no native engine in dist: run make js');
  const emptyDist = fs.mkdtempSync(path.join(os.tmpdir(), 'gognn-dist-'));
  const installed = fakeInstall(key);
  const nothing = fs.mkdtempSync(path.join(os.tmpdir(), 'gognn-none-'));
  t.after(() => { for (const d of [emptyDist, installed, nothing]) fs.rmSync(d, { recursive: true, force: true }); });
  const inPackage = path.join(installed, 'node_modules', ...packageName(key).split('/'), 'bin', binaryName(key));

  // 1. The platform package wins over dist.
  assert.equal(enginePath({ env: {}, paths: [installed] }), inPackage);
  // and its engine is the one that runs.
  const { transport, shutdown } = startNative(enginePath({ env: {}, paths: [installed] }));
  const c = new Client('native', transport, shutdown);
  const info = await c.info();
  assert.equal(`${info.goos}/${info.goarch}`, `${platforms[key].goos}/${platforms[key].goarch}`);
  await c.close();
  // GOGNN_ENGINE, set by hand, wins over both.
  assert.equal(enginePath({ env: { GOGNN_ENGINE: realEngine }, paths: [installed] }), realEngine);
  assert.throws(() => enginePath({ env: { GOGNN_ENGINE: path.join(nothing, 'missing') } }), /GOGNN_ENGINE=.*does not exist/);

  // 2. Without the package, dist.
  assert.equal(enginePath({ env: {}, paths: [nothing] }), realEngine);
  // A package of another platform is not this one's.
  const other = key === 'linux-arm64' ? 'linux-x64' : 'linux-arm64';
  const otherInstalled = fakeInstall(other);
  t.after(() => fs.rmSync(otherInstalled, { recursive: true, force: true }));
  assert.equal(enginePath({ env: {}, paths: [otherInstalled] }), realEngine);
  assert.ok(enginePath({ env: {}, paths: [otherInstalled], platform: other.split('-')[0], arch: other.split('-')[1] }).startsWith(otherInstalled));

  // 3. Neither: no engine, and open() falls back to wasm.
  const lookup = { env: {}, paths: [nothing], dist: emptyDist };
  assert.equal(enginePath(lookup), null);
  const g = await gognn.open({ lookup, wasm: 'serve' });
  assert.equal(g.backend, 'wasm-serve');
  await g.close();
  await assert.rejects(gognn.open({ backend: 'native', lookup }), /no native engine/);
});

test('a platform package of another version is an error, not a silent mismatch', (t) => {
  const installed = fakeInstall(key, '0.0.1-other');
  t.after(() => fs.rmSync(installed, { recursive: true, force: true }));
  assert.throws(() => enginePath({ env: {}, paths: [installed] }), /0\.0\.1-other is installed beside gognn/);
});

test('the platform package that make js-npm built is the one the lookup finds and it runs', async (t) => {
  const built = path.join(__dirname, '..', 'npm', key);
  if (!fs.existsSync(path.join(built, 'package.json'))) return t.skip(`no ${built}: make js-npm JS_NPM_PLATFORMS=${key} (make js-test does)`);
  const pkg = JSON.parse(fs.readFileSync(path.join(built, 'package.json'), 'utf8'));
  assert.equal(pkg.name, packageName(key));
  assert.equal(pkg.version, main.version);
  assert.deepEqual([pkg.os, pkg.cpu], [[process.platform], [process.arch]]);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gognn-built-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'node_modules', '@gognn'), { recursive: true });
  fs.symlinkSync(built, path.join(root, 'node_modules', ...packageName(key).split('/')));
  const file = enginePath({ env: {}, paths: [root] });
  assert.equal(fs.realpathSync(file), fs.realpathSync(path.join(built, 'bin', binaryName(key))));
  const g = await gognn.open({ lookup: { env: {}, paths: [root] } });
  assert.equal(g.backend, 'native');
  const info = await g.info();
  assert.equal(`${info.goos}/${info.goarch}`, `${platforms[key].goos}/${platforms[key].goarch}`);
  await g.close();
});
