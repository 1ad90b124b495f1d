import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIV3 } from 'openapi-types';
import { openApiJson } from '../../src/openapi-file';

const committedPath = join(__dirname, '..', '..', 'openapi-spec.json');

describe('openapi-spec.json', () => {
  let generated: string;
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    generated = await openApiJson();
    document = JSON.parse(generated) as OpenAPIV3.Document;
  });

  it('matches what the code generates (run `npm run openapi` after changing a route)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(generated);
  });

  it('is a valid OpenAPI document', async () => {
    await expect(
      SwaggerParser.validate(JSON.parse(generated)),
    ).resolves.toBeDefined();
  });

  it('documents every route of the contract', () => {
    const routes = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map(
        (method) => `${method.toUpperCase()} ${path}`,
      ),
    );

    expect(routes.sort()).toEqual(
      [
        'POST /room/create',
        'POST /room/bulk-create',
        'GET /room/pool',
        'GET /room',
        'DELETE /room',
        'GET /room/{room_name}',
        'PATCH /room/{room_name}',
        'DELETE /room/{room_name}',
        'GET /public/room/{room_name}',
        'POST /public/event_sink',
        'GET /public/health',
        'GET /public/health/ready',
      ].sort(),
    );
  });

  it('names the data shapes as the contract does', () => {
    expect(Object.keys(document.components?.schemas ?? {})).toEqual(
      expect.arrayContaining([
        'Alias',
        'CreatedRoom',
        'ConstrainedConference',
        'Conference',
        'Problem',
        'Health',
      ]),
    );
    const created = document.components?.schemas
      ?.CreatedRoom as OpenAPIV3.SchemaObject;
    expect(Object.keys(created.properties ?? {})).not.toContain('pin');
    const full = document.components?.schemas
      ?.Conference as OpenAPIV3.SchemaObject;
    expect(full.additionalProperties).toBe(true);
  });

  it('describes every error answer as problem+json', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item ?? {})) {
        const responses = (operation as OpenAPIV3.OperationObject).responses;
        for (const [status, response] of Object.entries(responses)) {
          if (Number(status) < 400 || path.startsWith('/public/health')) {
            continue;
          }
          const content = (response as OpenAPIV3.ResponseObject).content;
          expect([method, path, status, Object.keys(content ?? {})]).toEqual([
            method,
            path,
            status,
            ['application/problem+json'],
          ]);
        }
      }
    }
  });
});
