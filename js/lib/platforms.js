'use strict';
// The platforms that get a native engine package, in esbuild's model: the main package lists
// every one as an optional dependency, and npm installs only the one whose package.json `os`
// and `cpu` match the machine. Keys are Node's `${process.platform}-${process.arch}`; goos and
// goarch are what Go cross-compiles the engine (cmd/gognn-engine) for. One table, read by the
// loader (lib/native.js) and by the build script (npm/build.js).
const platforms = {
  'linux-x64': { goos: 'linux', goarch: 'amd64' },
  'linux-arm64': { goos: 'linux', goarch: 'arm64' },
  'darwin-x64': { goos: 'darwin', goarch: 'amd64' },
  'darwin-arm64': { goos: 'darwin', goarch: 'arm64' },
  'win32-x64': { goos: 'windows', goarch: 'amd64' },
  'win32-arm64': { goos: 'windows', goarch: 'arm64' },
  'freebsd-x64': { goos: 'freebsd', goarch: 'amd64' },
};

// The npm scope of the platform packages.
const scope = '@gognn';

// packageName returns the platform package of a key, e.g. '@gognn/linux-x64'.
const packageName = (key) => `${scope}/${key}`;

// binaryName returns the engine's file name inside a platform package's bin/.
const binaryName = (key) => (key.startsWith('win32-') ? 'gognn-engine.exe' : 'gognn-engine');

module.exports = { platforms, scope, packageName, binaryName };
