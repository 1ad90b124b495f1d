import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { loadConfig } from './config/app-config';
import { buildOpenApiDocument } from './openapi';

/**
 * The committed OpenAPI file's exact text. The application is built but
 * never started: no port, no timers, no connection to Pexip.
 */
export async function openApiJson(): Promise<string> {
  const config = loadConfig({
    PEXIP_URL: 'http://127.0.0.1:9',
    QUEUE_BACKEND: 'sqlite',
    SQLITE_PATH: ':memory:',
    LOG_LEVEL: 'silent',
  });
  Logger.overrideLogger(false);
  const app = await createApp(config);
  try {
    return `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
