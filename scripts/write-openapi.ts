/**
 * Writes the OpenAPI document generated from the code to openapi-spec.json
 * at the repository root. A test fails when the committed file is stale,
 * so run `npm run openapi` after changing a route or a DTO.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiJson } from '../src/openapi-file';

async function main(): Promise<void> {
  const target = join(__dirname, '..', 'openapi-spec.json');
  writeFileSync(target, await openApiJson());
  process.stdout.write(`wrote ${target}\n`);
}

void main();
