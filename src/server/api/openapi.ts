/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of everything the receiver serves. Each route
 * module's paths and schemas are written beside it (`openapi-<part>.ts`); this file puts them together with
 * what the whole document shares: the description, the server, the security scheme and the common schemas.
 * Incident slugs and variable names come from the catalog, so the document never disagrees with the decoder.
 */
import { INCIDENTS } from '../../core/catalog.ts';
import { text } from './openapi-shapes.ts';
import { appPaths } from './openapi-app.ts';
import { controlPaths, controlSchemas } from './openapi-control.ts';
import { deliveryPaths, deliverySchemas } from './openapi-deliveries.ts';
import { ingestPaths } from './openapi-ingest.ts';
import { inventoryPaths } from './openapi-inventory.ts';
import { reportPaths } from './openapi-reports.ts';
import { restPaths, restSchemas } from './openapi-rest.ts';
import { streamPaths } from './openapi-stream.ts';

type PathItems = Record<string, Record<string, unknown>>;

/**
 * The parts' paths as one map. Two parts may describe different methods of one path (the read of a phone
 * is in rest.ts, its change and removal in inventory-routes.ts); the same method twice is a mistake.
 */
function mergePaths(...parts: PathItems[]): PathItems {
  const paths: PathItems = {};
  for (const part of parts) {
    for (const [path, item] of Object.entries(part)) {
      for (const method of Object.keys(item)) {
        if (paths[path]?.[method]) throw new Error(`the OpenAPI document describes ${method.toUpperCase()} ${path} twice`);
      }
      paths[path] = { ...paths[path], ...item };
    }
  }
  return paths;
}

export function openApiDocument(serverUrl?: string) {
  const secured = [{ bearer: [] }, {}];
  return {
    openapi: '3.1.0',
    info: {
      title: 'actionurl receiver',
      version: '1',
      description:
        'Receives Action URL requests from SIP desk phones, stores every event, tracks each phone\'s live state, and serves it as a REST API and an event stream. Every /api path needs the admin token as `Authorization: Bearer <token>` (or `?access_token=` where a header cannot be set, as with EventSource): with --admin-token from every client; by default only from clients on other machines (the token is generated at first start and printed as a sign-in link); with --open from none. JSON answers of 1 KiB or more are brotli- or gzip-compressed when the client sends Accept-Encoding.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths: mergePaths(
      ingestPaths(),
      restPaths(secured),
      inventoryPaths(secured),
      reportPaths(secured),
      deliveryPaths(secured),
      streamPaths(secured),
      controlPaths(secured),
      appPaths(secured),
    ),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: text } },
        Incident: { type: 'string', enum: INCIDENTS.map((i) => i.slug) },
        ...restSchemas,
        ...deliverySchemas,
        ...controlSchemas,
      },
    },
  };
}
