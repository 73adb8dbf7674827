/**
 * The event stream's part of the OpenAPI document (stream.ts).
 */
import { error, mac, query, ref, text } from './openapi-shapes.ts';

export function streamPaths(secured: object[]) {
  return {
    '/api/v1/stream': {
      get: {
        summary: 'Server-Sent Events: each new event as `id: <event id>` and `data: <Event JSON>`',
        description:
          'Resumable: send `Last-Event-ID` (or `?last_event_id=`) to get every event after that id first. With `phones=1`, also `event: phone` messages carrying a Phone. Comment lines keep a quiet stream open.',
        security: secured,
        parameters: [
          mac,
          query('incident', 'Incident slug', ref('Incident')),
          query('phones', 'Also send phone state changes', { enum: ['1', 'true'] }),
          query('last_event_id', 'Resume after this event id', { type: 'integer' }),
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'integer' } },
        ],
        responses: {
          200: { description: 'The stream', content: { 'text/event-stream': { schema: text } } },
          401: error('Admin token missing or wrong'),
        },
      },
    },
  };
}
