import { createHash, timingSafeEqual } from 'node:crypto';

import { Request } from 'express';

import { ApiAnswer, ApiError } from './api-answer';
import {
  envelopeJson,
  listMeta,
  parseListRequest,
  selectPage,
} from './list.query';
import { TOKEN_PATH } from './oauth.issuer';
import {
  CONFIGURATION_PREFIX,
  idFromUri,
  ResourceName,
  resourceUri,
  STATUS_PREFIX,
} from './resource.schemas';
import { SimulatorState } from './simulator.state';

type Body = Record<string, unknown>;

/** Which handler a path belongs to; `id` is set on detail paths. */
type Route =
  | { api: 'configuration'; resource: ResourceName; id?: string }
  | { api: 'status'; id?: string }
  | { api: 'oauth' };

const CONFIGURATION_ROUTE = new RegExp(
  `^${CONFIGURATION_PREFIX}` +
    '(conference|conference_alias|automatic_participant)/(?:([^/]+)/)?$',
);
const STATUS_ROUTE = new RegExp(`^${STATUS_PREFIX}conference/(?:([^/]+)/)?$`);

const DEFAULT_LIMIT = 20;

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Pexip"' };

/**
 * Routes one request to the management node's APIs: the configuration
 * resources, the status API and the OAuth token endpoint, with the
 * management node's authentication and Tastypie's status codes and
 * bodies. It decides the answer; sending it is the caller's job.
 */
export class AdminApiRoutes {
  private readonly credentialDigest: Buffer;

  constructor(private readonly state: SimulatorState) {
    const { username, password } = state.settings;
    this.credentialDigest = digest(`${username}:${password}`);
  }

  /**
   * The answer to one request whose body has been read into `req.body`.
   *
   * @throws ApiError for answers decided deep inside (400, 404)
   */
  async dispatch(req: Request): Promise<ApiAnswer> {
    const queryAt = req.originalUrl.indexOf('?');
    const path =
      queryAt < 0 ? req.originalUrl : req.originalUrl.slice(0, queryAt);
    const search = queryAt < 0 ? '' : req.originalUrl.slice(queryAt);
    const method = req.method === 'HEAD' ? 'GET' : req.method;

    const route = resolve(path);
    if (!route) return this.withoutSlash(path, search, method);

    if (route.api === 'oauth') {
      if (method !== 'POST') return notAllowed('POST');
      return this.state.oauth.exchange(new URLSearchParams(bodyText(req)));
    }

    if (!this.authorized(req.headers.authorization)) {
      return { status: 401, headers: BASIC_CHALLENGE };
    }
    const params = new URLSearchParams(search);
    if (route.api === 'status') {
      return this.status(method, path, params, route.id);
    }

    return route.id === undefined
      ? this.collection(req, method, path, params, route.resource)
      : this.detail(req, method, route.resource, route.id);
  }

  /**
   * Django redirects a GET without the trailing slash to the slashed path;
   * any other method has no such route.
   */
  private withoutSlash(path: string, search: string, method: string) {
    if (method === 'GET' && !path.endsWith('/') && resolve(`${path}/`)) {
      return { status: 301, headers: { Location: `${path}/${search}` } };
    }
    return { status: 404 };
  }

  private authorized(header: string | undefined): boolean {
    const match = /^(\w+) +(\S+)$/.exec(header ?? '');
    if (!match) return false;
    const [, scheme, credentials] = match;

    if (scheme.toLowerCase() === 'bearer') {
      return this.state.oauth.isValid(credentials);
    }
    if (scheme.toLowerCase() !== 'basic') return false;
    // Comparing digests keeps the comparison constant-time at any length.
    const given = digest(Buffer.from(credentials, 'base64').toString('utf8'));
    return timingSafeEqual(given, this.credentialDigest);
  }

  private collection(
    req: Request,
    method: string,
    path: string,
    params: URLSearchParams,
    resource: ResourceName,
  ): ApiAnswer {
    const { store, settings } = this.state;
    const queryable = store.queryable(resource);

    switch (method) {
      case 'GET': {
        const request = parseListRequest(
          params,
          queryable,
          DEFAULT_LIMIT,
          settings.maxLimit,
        );
        const { total, objects } = store.listJson(resource, request);
        const meta = listMeta(path, params, { ...request, total });
        return { status: 200, json: envelopeJson(meta, objects) };
      }
      case 'POST': {
        const id = store.create(resource, jsonObject(req));
        return {
          status: 201,
          headers: { Location: this.location(req, resource, id) },
        };
      }
      case 'DELETE': {
        // As in Tastypie, the filters choose what goes; none means all.
        store.removeMatching(
          resource,
          parseListRequest(params, queryable, DEFAULT_LIMIT, settings.maxLimit),
        );
        return { status: 204 };
      }
      case 'PATCH':
        this.patchCollection(resource, jsonObject(req));
        return { status: 202 };
      case 'PUT':
        this.replaceCollection(resource, jsonObject(req));
        return { status: 204 };
      default:
        return notAllowed('GET, POST, PUT, PATCH, DELETE');
    }
  }

  /**
   * Tastypie's bulk PATCH: `objects` with a `resource_uri` update that
   * object, the others are created, and `deleted_objects` (URIs) go. The
   * items are applied one by one; a refused item stops the rest.
   */
  private patchCollection(resource: ResourceName, body: Body): void {
    const { store } = this.state;
    for (const item of listField(body, 'objects')) {
      const object = asObject(item);
      if (typeof object.resource_uri === 'string') {
        store.update(
          resource,
          requiredId(resource, object.resource_uri),
          object,
        );
      } else {
        store.create(resource, object);
      }
    }
    for (const uri of listField(body, 'deleted_objects')) {
      store.remove(resource, requiredId(resource, uri));
    }
  }

  /** Tastypie's PUT on a list: delete every object, then create `objects`. */
  private replaceCollection(resource: ResourceName, body: Body): void {
    if (!Array.isArray(body.objects)) {
      throw ApiError.badRequest("A PUT on a list needs an 'objects' list.");
    }
    const { store } = this.state;
    const everything = parseListRequest(
      new URLSearchParams(),
      store.queryable(resource),
      DEFAULT_LIMIT,
      this.state.settings.maxLimit,
    );
    store.removeMatching(resource, everything);
    for (const item of body.objects) store.create(resource, asObject(item));
  }

  private detail(
    req: Request,
    method: string,
    resource: ResourceName,
    rawId: string,
  ): ApiAnswer {
    // Tastypie answers a key of the wrong type as a missing object.
    if (!/^\d+$/.test(rawId)) throw ApiError.notFound();
    const id = Number(rawId);
    const { store } = this.state;

    switch (method) {
      case 'GET': {
        const json = store.getJson(resource, id);
        return json ? { status: 200, json } : { status: 404 };
      }
      case 'PATCH':
        store.update(resource, id, jsonObject(req));
        return { status: 202 };
      case 'PUT':
        store.update(resource, id, jsonObject(req));
        return { status: 204 };
      case 'DELETE':
        store.remove(resource, id);
        return { status: 204 };
      case 'POST':
        return { status: 501 };
      default:
        return notAllowed('GET, PUT, PATCH, DELETE');
    }
  }

  private status(
    method: string,
    path: string,
    params: URLSearchParams,
    id: string | undefined,
  ): ApiAnswer {
    if (method !== 'GET') return notAllowed('GET');
    const { calls, settings } = this.state;

    if (id !== undefined) {
      const conference = calls.find(id);
      return conference
        ? { status: 200, body: calls.serialize(conference) }
        : { status: 404 };
    }

    const request = parseListRequest(
      params,
      calls.queryable,
      DEFAULT_LIMIT,
      settings.maxLimit,
    );
    const { total, rows } = selectPage(calls.active(), request);
    const objects = rows.map((row) => JSON.stringify(calls.serialize(row)));
    const meta = listMeta(path, params, { ...request, total });
    return { status: 200, json: envelopeJson(meta, objects) };
  }

  private location(req: Request, resource: ResourceName, id: number): string {
    const path = resourceUri(resource, id);
    if (!this.state.settings.absoluteLocation) return path;
    const host =
      req.get('host') ??
      `${this.state.settings.host}:${this.state.settings.port}`;
    return `${req.protocol}://${host}${path}`;
  }
}

function resolve(path: string): Route | undefined {
  if (path === TOKEN_PATH) return { api: 'oauth' };

  const configuration = CONFIGURATION_ROUTE.exec(path);
  if (configuration) {
    return {
      api: 'configuration',
      resource: configuration[1] as ResourceName,
      id: configuration[2],
    };
  }

  const status = STATUS_ROUTE.exec(path);
  return status ? { api: 'status', id: status[1] } : undefined;
}

function notAllowed(allow: string): ApiAnswer {
  return { status: 405, headers: { Allow: allow } };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function bodyText(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
}

/**
 * The JSON object a write carries.
 *
 * @throws ApiError 400 when the body is not JSON or not an object
 */
function jsonObject(req: Request): Body {
  const type = req.headers['content-type'];
  if (type && !/json/i.test(type)) {
    throw ApiError.badRequest(
      `Cannot read a body of type '${type}': send application/json.`,
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText(req));
  } catch {
    throw ApiError.badRequest('The request body is not valid JSON.');
  }
  return asObject(parsed);
}

function asObject(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ApiError.badRequest('Expected a JSON object.');
  }
  return value as Body;
}

function listField(body: Body, field: string): unknown[] {
  const value = body[field] ?? [];
  if (!Array.isArray(value)) {
    throw ApiError.badRequest(`The '${field}' field must be a list.`);
  }
  return value;
}

function requiredId(resource: ResourceName, uri: unknown): number {
  const id = typeof uri === 'string' ? idFromUri(resource, uri) : undefined;
  if (id === undefined) {
    throw ApiError.badRequest(`'${String(uri)}' is not a ${resource} URI.`);
  }
  return id;
}
