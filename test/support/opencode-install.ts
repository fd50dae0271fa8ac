/**
 * Installs a given opencode-ai release from the npm registry into `.tmp/opencode/<version>` (cached)
 * and returns the path of the native binary.
 *
 * `opencode-ai` itself is only a wrapper: its `bin/opencode` (≤1.1) is a node launcher and its
 * `bin/opencode.exe` (≥1.2) is a placeholder that a postinstall script replaces with a hard link.
 * The real binary ships in a platform package, `opencode-<os>-<arch>[-baseline][-musl]/bin/opencode`.
 * Installing `opencode-ai` plainly pulls every Linux x64 variant (4 × ~150 MB, npm ignores libc), so we
 * install the wrapper without optional deps or scripts plus exactly the one platform package we need.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OPENCODE_CACHE_ROOT = join(REPO_ROOT, '.tmp', 'opencode');

function hasAvx2(): boolean {
  if (arch() !== 'x64') return false;
  if (platform() !== 'linux') return true;
  try {
    return /(^|\s)avx2(\s|$)/i.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

function isMusl(): boolean {
  if (platform() !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !report?.header?.glibcVersionRuntime;
}

/** The name of the platform package that holds the binary for this machine, e.g. `opencode-linux-x64`. */
export function platformPackage(): string {
  const os = platform() === 'win32' ? 'windows' : platform();
  let name = `opencode-${os}-${arch()}`;
  if (arch() === 'x64' && !hasAvx2()) name += '-baseline';
  if (isMusl()) name += '-musl';
  return name;
}

export function binaryPath(version: string): string {
  const exe = platform() === 'win32' ? 'opencode.exe' : 'opencode';
  return join(OPENCODE_CACHE_ROOT, version, 'node_modules', platformPackage(), 'bin', exe);
}

const inflight = new Map<string, Promise<string>>();

/**
 * Returns the path of the opencode binary for `version`, installing it first when it is not cached.
 * Safe to call concurrently (same version shares one install).
 */
export function installOpencode(version: string): Promise<string> {
  let p = inflight.get(version);
  if (!p) {
    p = doInstall(version);
    inflight.set(version, p);
    p.catch(() => inflight.delete(version));
  }
  return p;
}

async function doInstall(version: string): Promise<string> {
  const bin = binaryPath(version);
  const dir = join(OPENCODE_CACHE_ROOT, version);
  const marker = join(dir, '.installed');
  if (existsSync(marker) && existsSync(bin)) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A package.json stops npm from walking up to /work/main's package.json and node_modules.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'opencode-cache', private: true }));
  const pkg = platformPackage();
  await execFileAsync(
    'npm',
    [
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--ignore-scripts',
      '--omit=optional',
      '--loglevel=error',
      `opencode-ai@${version}`,
      `${pkg}@${version}`,
    ],
    { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
  );
  if (!existsSync(bin)) throw new Error(`opencode ${version}: binary not found at ${bin} after install`);
  const { stdout } = await execFileAsync(bin, ['--version'], {
    timeout: 60_000,
    env: isolatedVersionEnv(dir),
  });
  const reported = stdout.trim().split('\n').pop()?.trim();
  if (reported !== version) throw new Error(`opencode ${version}: binary reports version '${reported}'`);
  writeFileSync(marker, `${version}\n`);
  return bin;
}

/** `opencode --version` still touches XDG dirs; keep that inside the cache dir, not in the real HOME. */
function isolatedVersionEnv(dir: string): NodeJS.ProcessEnv {
  const home = join(dir, 'home');
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_STATE_HOME: join(home, 'state'),
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
  };
}

// `node --import tsx test/support/opencode-install.ts 1.1.65 1.2.1` installs and prints binary paths.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const v of process.argv.slice(2)) {
    const t0 = Date.now();
    const bin = await installOpencode(v);
    console.log(`${v}\t${bin}\t${Date.now() - t0}ms`);
  }
}
