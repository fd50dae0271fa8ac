/**
 * Runs the real OpenCode CLI non-interactively (`opencode run <message>`) in a fully isolated
 * environment: HOME and all XDG dirs under one temp root, a git project dir, and a global
 * opencode.json whose only provider is our fake OpenAI-compatible server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROVIDER_ID = 'fake';
export const MODEL_ID = 'fake-model';

/** USD per 1M tokens, as OpenCode expects in model `cost`. */
export const MODEL_COST = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 };

export interface OpencodeEnv {
  root: string;
  home: string;
  /** `$XDG_DATA_HOME/opencode`: where `storage/` and `opencode.db` live. */
  dataDir: string;
  configDir: string;
  cacheDir: string;
  projectDir: string;
  env: NodeJS.ProcessEnv;
}

export interface EnvOptions {
  /** Model context limit written to the config (small values make overflow compaction reachable). */
  contextLimit?: number;
  outputLimit?: number;
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    stdio: 'ignore',
  });
}

/** Creates the directory layout, the git project (one commit) and returns the env for runs. */
export function createOpencodeEnv(root: string): OpencodeEnv {
  const home = join(root, 'home');
  const xdgData = join(home, '.local', 'share');
  const xdgConfig = join(home, '.config');
  const xdgCache = join(home, '.cache');
  const xdgState = join(home, '.local', 'state');
  const projectDir = join(root, 'project');
  for (const d of [xdgData, xdgConfig, xdgCache, xdgState, projectDir]) mkdirSync(d, { recursive: true });

  git(projectDir, 'init', '-q', '-b', 'main');
  writeFileSync(join(projectDir, 'README.md'), '# demo project\n\nUsed by the opencode contract test.\n');
  writeFileSync(join(projectDir, 'notes.txt'), 'alpha\nbeta\ngamma\n');
  git(projectDir, 'add', '-A');
  git(projectDir, 'commit', '-q', '-m', 'initial');

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    HOME: home,
    XDG_DATA_HOME: xdgData,
    XDG_CONFIG_HOME: xdgConfig,
    XDG_CACHE_HOME: xdgCache,
    XDG_STATE_HOME: xdgState,
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    // Keep OpenCode off the network and away from anything but our config.
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_EXTERNAL_SKILLS: '1',
    OPENCODE_DISABLE_TERMINAL_TITLE: '1',
    OPENCODE_EXPERIMENTAL_DISABLE_FILEWATCHER: '1',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  };
  return {
    root,
    home,
    dataDir: join(xdgData, 'opencode'),
    configDir: join(xdgConfig, 'opencode'),
    cacheDir: join(xdgCache, 'opencode'),
    projectDir,
    env,
  };
}

/** Writes the global `opencode.json` pointing at the fake server. Call again when the port changes. */
export function writeOpencodeConfig(oc: OpencodeEnv, baseURL: string, opts: EnvOptions = {}): void {
  mkdirSync(oc.configDir, { recursive: true });
  const config = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: `${PROVIDER_ID}/${MODEL_ID}`,
    small_model: `${PROVIDER_ID}/${MODEL_ID}`,
    permission: {
      edit: 'allow',
      bash: 'allow',
      webfetch: 'allow',
      external_directory: 'allow',
    },
    provider: {
      [PROVIDER_ID]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Fake OpenAI',
        options: { baseURL, apiKey: 'sk-test' },
        models: {
          [MODEL_ID]: {
            name: 'Fake Model',
            tool_call: true,
            reasoning: true,
            temperature: true,
            cost: MODEL_COST,
            limit: { context: opts.contextLimit ?? 200_000, output: opts.outputLimit ?? 8_192 },
          },
        },
      },
    },
  };
  writeFileSync(join(oc.configDir, 'opencode.json'), `${JSON.stringify(config, null, 2)}\n`);
}

export interface RunOptions {
  /** Extra CLI args placed after `run` (e.g. ['--session', id] or ['--continue']). */
  args?: string[];
  timeoutMs?: number;
  /** Extra env vars for this run only. */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  bin: string;
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

/** Runs `opencode run <message>` in the project dir and resolves when the process exits. */
export function runOpencode(
  bin: string,
  oc: OpencodeEnv,
  message: string,
  opts: RunOptions = {},
): Promise<RunResult> {
  const argv = ['run', ...(opts.args ?? []), '--print-logs', '--log-level', 'INFO', message];
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    // detached => own process group, so a timeout or the end of the run can reap tool children too.
    const child = spawn(bin, argv, {
      cwd: oc.projectDir,
      env: { ...oc.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), 3_000).unref();
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // Once opencode itself exits, reap whatever it left in its group (LSP servers, bash tool children);
    // otherwise a grandchild holding stdout open would delay 'close'.
    child.on('exit', () => killGroup(child.pid, 'SIGKILL'));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        bin,
        argv,
        code,
        signal,
        timedOut,
        stdout,
        stderr,
        durationMs: Date.now() - started,
      });
    });
  });
}
