/** A usage error as a person wants it: what was wrong, the command's usage line, where the help is. */
import type { Command } from 'commander';

/** The deepest command the arguments name (`ocbridge pricing update …` → `update`). */
export function commandFor(program: Command, argv: readonly string[]): Command {
  let cmd = program;
  for (const word of argv.slice(2)) {
    if (word.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    cmd = sub;
  }
  return cmd;
}

const pathOf = (cmd: Command): string => (cmd.parent ? `${pathOf(cmd.parent)} ${cmd.name()}` : cmd.name());

export function usageError(program: Command, argv: readonly string[], message: string): string {
  const cmd = commandFor(program, argv);
  const what = message.replace(/^error: /, '').split('\n')[0];
  return `ocbridge: ${what}\nusage: ${pathOf(cmd)} ${cmd.usage()}   (more: ${pathOf(cmd)} --help)`;
}
