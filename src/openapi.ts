import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { version } from '../package.json';

/**
 * Builds the OpenAPI document from the controllers and DTOs. The same
 * document is served at /openapi.json and committed as openapi-spec.json.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('MaxConf API')
    .setDescription(
      [
        'Provisions Pexip Infinity video rooms for identity checks by video.',
        '',
        'Private routes need `Authorization: Bearer <token>` from Microsoft Entra ID (client-credentials flow).',
        'The agent widget reads a room with its Genesys Cloud token in `x-auth-token`;',
        "Pexip's conferencing nodes post events with HTTP Basic.",
        'Every error is `application/problem+json` (RFC 9457) with a `request_id`.',
      ].join('\n'),
    )
    .setVersion(version)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'Access token from Microsoft Entra ID.',
      },
      'bearer',
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'x-auth-token',
        description: "The agent's Genesys Cloud access token.",
      },
      'genesys-token',
    )
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description: "Credentials set in Pexip's event-sink settings.",
      },
      'event-sink',
    )
    .build();

  const document = SwaggerModule.createDocument(app, config);

  // Pexip adds fields in new releases; the full room shape passes them on.
  const conference = document.components?.schemas?.Conference;
  if (conference && !('$ref' in conference)) {
    conference.additionalProperties = true;
  }
  return document;
}

/** Serves Swagger UI at /docs and the document at /openapi.json. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'MaxConf API',
    swaggerOptions: { persistAuthorization: true },
  });
}
