/**
 * The ingest part of the OpenAPI document: the three URL forms phones call (server/ingest.ts), with every
 * variable of the catalog as a query parameter.
 */
import { VARIABLES } from '../../core/catalog.ts';
import { plain, query, ref, text } from './openapi-shapes.ts';

const INGEST_PARAMS = [
  ...VARIABLES.map((v) => query(v.name, `${v.description}${v.aliases.length ? ` (also spelled ${v.aliases.map((a) => a.spelling).join(', ')})` : ''}`)),
  query('token', 'Ingest token, when the receiver requires one'),
];

const INGEST_RESPONSES = {
  200: plain('Stored (committed to disk before this answer): body `OK`'),
  400: plain('Not usable (no MAC, unknown incident, …): the one-line reason; kept as a rejected request'),
  403: plain('Wrong or missing token, or source not allowed; kept as a rejected request'),
  429: plain('Over the per-source rate limit'),
  503: plain('The store is unavailable; the event was not stored'),
};

export function ingestPaths() {
  return {
    '/actionurl/{incident}': {
      get: {
        summary: 'Ingest: what phones call (the form generated configs use)',
        description: 'Values may arrive unencoded (raw spaces and UTF-8); `&` and `;` both separate pairs.',
        parameters: [{ name: 'incident', in: 'path', required: true, schema: ref('Incident') }, ...INGEST_PARAMS],
        responses: INGEST_RESPONSES,
      },
    },
    '/actionurl': {
      get: {
        summary: 'Ingest: one URL for every incident, named by `event=`',
        parameters: [{ ...query('event', 'Incident slug'), required: true }, ...INGEST_PARAMS],
        responses: INGEST_RESPONSES,
      },
    },
    '/actionurl/{incident}/{pairs}': {
      get: {
        summary: 'Ingest: Grandstream path form, `name=value&…` in the path without `?`',
        parameters: [
          { name: 'incident', in: 'path', required: true, schema: ref('Incident') },
          { name: 'pairs', in: 'path', required: true, schema: text },
        ],
        responses: INGEST_RESPONSES,
      },
    },
  };
}
