/** One instruction of a Dockerfile, continuation lines joined. */
export interface DockerInstruction {
  /** Upper-case keyword: `FROM`, `RUN`, `COPY`… */
  readonly keyword: string;
  /** Everything after the keyword, whitespace collapsed at line joins. */
  readonly args: string;
}

/** One `FROM` stage and the instructions under it. */
export interface DockerStage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: readonly DockerInstruction[];
}

/**
 * Splits a Dockerfile into stages, enough for tests to reason about it:
 * comments (parser directives included) are dropped, lines ending in a
 * backslash are joined, and each `FROM` opens a stage.
 *
 * @throws Error when an instruction comes before the first `FROM`.
 * @example parseDockerfile('FROM node:20 AS build\nRUN npm ci')[0].name // 'build'
 */
export function parseDockerfile(text: string): DockerStage[] {
  const stages: {
    base: string;
    name: string | undefined;
    instructions: DockerInstruction[];
  }[] = [];

  for (const line of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/s.exec(line);
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    const args = match[2].trim();

    if (keyword === 'FROM') {
      const [base, as, name] = args.split(/\s+/);
      stages.push({
        base,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
      continue;
    }
    const current = stages.at(-1);
    if (!current) throw new Error(`${keyword} before the first FROM`);
    current.instructions.push({ keyword, args });
  }
  return stages;
}

/** The instructions of a stage with this keyword, in order. */
export function instructionsOf(
  stage: DockerStage,
  keyword: string,
): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The command of an exec-form (`["node", "x.js"]`) instruction argument. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (
    !Array.isArray(parsed) ||
    !parsed.every((part) => typeof part === 'string')
  ) {
    throw new Error(`not an exec-form command: ${args}`);
  }
  return parsed;
}

/** The `KEY=value` pairs of an `ENV` instruction (unquoted values only). */
export function envPairs(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const token of args.split(/\s+/)) {
    const equals = token.indexOf('=');
    if (equals <= 0) throw new Error(`ENV without KEY=value form: ${args}`);
    pairs[token.slice(0, equals)] = token.slice(equals + 1);
  }
  return pairs;
}

/**
 * True when a `.dockerignore` pattern list keeps `path` (relative to the
 * build context) out of the context. Handles the forms this repository
 * uses: plain names and folders, `*` within one path segment, and `!`
 * exceptions, where the last matching line wins as in Docker.
 */
export function isIgnored(patterns: readonly string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/|\/$/g, '');
    const regex = new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}(/.*)?$`,
    );
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

/** The pattern lines of a `.dockerignore` file. */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const joined = (pending + line).trim();
    pending = '';
    if (joined !== '') lines.push(joined);
  }
  if (pending.trim() !== '') lines.push(pending.trim());
  return lines;
}
