/**
 * The part of the OpenAPI document for the paths app.ts mounts itself: this document, phone config files,
 * the health check and the metrics.
 */
import { error, json, query, text } from './openapi-shapes.ts';

export function appPaths(secured: object[]) {
  return {
    '/api/v1/openapi.json': {
      get: { summary: 'This document', security: secured, responses: { 200: json('OpenAPI 3.1', { type: 'object' }) } },
    },
    '/provision/{file}': {
      get: {
        summary: 'A phone config file pointing the phone at this receiver',
        description:
          'The vendor is chosen by the file name (<mac>.cfg Yealink, y000000000000.cfg, r000000000000.cfg and <MAC>.cfg Akuvox, cfg<mac>.xml Grandstream, <MAC>.xml Snom) and the User-Agent; `vendor=` overrides.',
        parameters: [
          { name: 'file', in: 'path', required: true, schema: text },
          query('vendor', 'yealink, akuvox, fanvil, snom or grandstream', { enum: ['yealink', 'akuvox', 'fanvil', 'snom', 'grandstream'] }),
        ],
        responses: {
          200: { description: 'The file', content: { 'text/plain': { schema: text }, 'application/xml': { schema: text } } },
          404: error('Not a file name any vendor asks for'),
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness and store check',
        responses: {
          200: json('Healthy, or degraded: PostgreSQL does not answer but events go to the local journal', {
            type: 'object',
            properties: {
              status: { enum: ['ok', 'degraded'] },
              store: text,
              phones: { type: 'integer' },
              journalled: { type: 'integer', description: 'PostgreSQL with a local journal: write batches waiting in it' },
              error: text,
            },
          }),
          503: json('Events cannot be stored: the store does not answer (status unavailable), or the disk is full (status degraded, the reason in error; reads still work)', {
            type: 'object',
            properties: { status: { enum: ['unavailable', 'degraded'] }, store: text, phones: { type: 'integer' }, error: text },
          }),
        },
      },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Text format 0.0.4', content: { 'text/plain': { schema: text } } } } },
    },
  };
}
