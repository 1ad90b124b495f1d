import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import type { Request } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { bodyParsers } from './common/body-parsers';
import { answerClientErrorsAsProblems } from './common/client-errors';
import { RequestValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { serveOpenApi } from './openapi';

/** Only the agent widget calls from a browser, and only this route. */
const CORS_PATH = /^\/public\/room\//;

/**
 * Creates the application with everything `main.ts` and the tests share:
 * logging, security headers, body limits, CORS, validation and the API
 * documentation. The caller decides when to listen.
 */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(config, options),
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();

  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use(
    helmet({
      // Swagger UI styles its page inline; scripts stay same-origin only.
      // TLS ends in front of the service (APIM, ingress), and the service
      // itself speaks plain HTTP: with upgrade-insecure-requests a browser
      // that reaches /docs over HTTP by host name (docker compose on another
      // machine, an in-cluster address) asks for its scripts over HTTPS and
      // gets a blank page.
      contentSecurityPolicy: {
        directives: {
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  for (const parser of bodyParsers(config.bodyLimitBytes)) {
    app.use(parser);
  }

  app.enableCors((request: Request, callback) => {
    const allowed =
      CORS_PATH.test(request.path) && config.corsOrigins.length > 0;
    callback(null, {
      origin: allowed ? [...config.corsOrigins] : false,
      methods: ['GET'],
      allowedHeaders: ['x-auth-token', 'content-type'],
      exposedHeaders: ['X-Request-Id'],
      maxAge: 600,
    });
  });

  app.useGlobalPipes(new RequestValidationPipe());
  answerClientErrorsAsProblems(app.getHttpServer());
  serveOpenApi(app);
  return app;
}
