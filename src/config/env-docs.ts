import { z } from 'zod';
import { envSchema, EnvName } from './env.schema';

export interface EnvDoc {
  readonly name: EnvName;
  /** The default as text, or undefined when the variable has none. */
  readonly defaultValue: string | undefined;
  readonly description: string;
}

/**
 * Every variable of the schema with its default and meaning, in schema
 * order: the source of `.env.example` and the README's table.
 */
export function envDocs(): EnvDoc[] {
  return (Object.keys(envSchema.shape) as EnvName[]).map((name) => {
    const field = envSchema.shape[name] as z.ZodType;
    const parsed = field.safeParse(undefined);
    const value = parsed.success ? parsed.data : undefined;
    return {
      name,
      defaultValue: value === undefined ? undefined : String(value),
      description: field.description ?? '',
    };
  });
}

/** The text of `.env.example`. */
export function envExampleText(): string {
  const lines = [
    '# MaxConf configuration. Every variable is optional in development;',
    '# NODE_ENV=production requires PEXIP_URL, Pexip credentials, the',
    '# AUTH_* settings and the event-sink credentials.',
    '# Generated from src/config/env.schema.ts by `npm run env-example`.',
    '',
  ];
  for (const doc of envDocs()) {
    lines.push(...wrap(doc.description.replace(/`/g, ''), 78).map((l) => `# ${l}`));
    lines.push(
      doc.defaultValue === undefined
        ? `# ${doc.name}=`
        : `# ${doc.name}=${doc.defaultValue}`,
    );
    lines.push('');
  }
  return lines.join('\n');
}

/** The README's configuration table (Markdown). */
export function envMarkdownTable(): string {
  const rows = envDocs().map(
    (doc) =>
      `| \`${doc.name}\` | ${
        doc.defaultValue === undefined || doc.defaultValue === ''
          ? 'unset'
          : `\`${doc.defaultValue}\``
      } | ${doc.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join(
    '\n',
  );
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
