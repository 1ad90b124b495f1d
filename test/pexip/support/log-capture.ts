import { Logger } from '@nestjs/common';

export interface CapturedLog {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose';
  context: string;
  message: string;
}

/**
 * Records what Nest loggers write instead of printing it, so that tests can
 * assert on warnings and on what must never be logged.
 *
 * @example const logs = captureLogs(); …; expect(logs.at('warn')).toHaveLength(1);
 */
export function captureLogs() {
  const lines: CapturedLog[] = [];
  const levels = ['log', 'error', 'warn', 'debug', 'verbose'] as const;
  const spies = levels.map((level) =>
    jest.spyOn(Logger.prototype, level).mockImplementation(function (
      this: Logger,
      ...args: unknown[]
    ) {
      const context = (this as unknown as { context?: string }).context;
      lines.push({ level, context: context ?? '', message: String(args[0]) });
    }),
  );

  return {
    lines,
    /** Messages logged at `level`. */
    at: (level: CapturedLog['level']) =>
      lines.filter((line) => line.level === level).map((line) => line.message),
    /** Everything logged, as one text, for "never logged" assertions. */
    text: () => lines.map((line) => line.message).join('\n'),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
