import { z } from 'zod';

/**
 * Bodies of the control surface (`/_simulator/...`), validated strictly so
 * that a typo in a test harness (`pathPrefix`, `"times": "2"`) is a 400
 * with a message instead of a fault that silently never fires.
 */

export const latencySchema = z.strictObject({
  ms: z.int().min(0).max(600_000),
});

export const faultSchema = z
  .strictObject({
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'must be an HTTP method such as "POST"')
      .transform((method) => method.toUpperCase())
      .nullish(),
    path_prefix: z.string().startsWith('/').nullish(),
    status: z.int().min(100).max(599).nullish(),
    times: z.int().min(1).default(1),
    after_commit: z.boolean().default(false),
    retry_after: z
      .union([z.int().min(0), z.string().min(1)])
      .transform(String)
      .nullish(),
    hang: z.boolean().default(false),
    /** Extension: destroy the connection instead of answering. */
    reset: z.boolean().default(false),
  })
  .refine((fault) => !(fault.hang && fault.reset), {
    message: '"hang" and "reset" cannot both be true',
  })
  .refine((fault) => fault.hang || fault.reset || fault.status != null, {
    message: '"status" is required unless "hang" or "reset" is true',
    path: ['status'],
  });

export type FaultSpec = z.output<typeof faultSchema>;

export const callSchema = z.strictObject({
  conference: z.string().min(1),
  duration_ms: z.int().min(0).max(86_400_000).default(1000),
  nodes: z.array(z.string().min(1)).min(1).default(['10.0.0.1']),
  sink_url: z.url({ protocol: /^https?$/ }).nullish(),
  username: z.string().nullish(),
  password: z.string().nullish(),
});

export type CallSpec = z.output<typeof callSchema>;

/** One line naming each problem, e.g. `times: Too small: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.path.length > 0
        ? `${issue.path.join('.')}: ${issue.message}`
        : issue.message,
    )
    .join('; ');
}
