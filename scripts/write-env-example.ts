/**
 * Writes .env.example from the configuration schema, so that the example
 * and the code can never disagree. A test checks the committed file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envExampleText } from '../src/config/env-docs';

const target = join(__dirname, '..', '.env.example');
writeFileSync(target, envExampleText());
process.stdout.write(`wrote ${target}\n`);
