/**
 * The forwarding part of the OpenAPI document (deliveries.ts): the delivery log, one delivery, a retry, the
 * destinations with their health, a test event and switching a destination on again.
 */
import { before, error, json, limit, nullableTime, query, ref, text, time } from './openapi-shapes.ts';

export function deliveryPaths(secured: object[]) {
  return {
    '/api/v1/deliveries': {
      get: {
        summary: 'Forwarding delivery log (webhooks, MQTT), newest first',
        security: secured,
        parameters: [
          query('state', 'pending (not tried yet), failed (will be retried), dead (gave up; re-sendable), delivered', { enum: ['pending', 'failed', 'dead', 'delivered'] }),
          query('destination', 'Destination name'),
          limit,
          before,
        ],
        responses: {
          200: json('A page of deliveries', {
            type: 'object',
            properties: { deliveries: { type: 'array', items: ref('Delivery') }, next: { type: ['integer', 'null'] } },
          }),
          400: error('A parameter is invalid'),
          401: error('Admin token missing or wrong'),
        },
      },
    },
    '/api/v1/deliveries/{id}': {
      get: {
        summary: 'One delivery, with the body it sends',
        security: secured,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: {
          200: json('The delivery', { allOf: [ref('Delivery'), { type: 'object', properties: { body: { type: ['object', 'null'] } } }] }),
          400: error('Not a delivery id'),
          401: error('Admin token missing or wrong'),
          404: error('No such delivery'),
        },
      },
    },
    '/api/v1/deliveries/{id}/retry': {
      post: {
        summary: 'Send a delivery again (same webhook-id), whatever its state',
        security: secured,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: {
          202: json('Pending again', ref('Delivery')),
          400: error('Not a delivery id'),
          401: error('Admin token missing or wrong'),
          404: error('No such delivery'),
          409: error('Forwarding is not configured'),
        },
      },
    },
    '/api/v1/destinations': {
      get: {
        summary: 'Forwarding destinations with their health',
        security: secured,
        responses: {
          200: json('The destinations', {
            type: 'object',
            properties: {
              destinations: {
                type: 'array',
                items: ref('Destination'),
              },
              cluster: {
                type: ['object', 'null'],
                description: 'Several receivers on one PostgreSQL: how deliveries are shared among them; null with one receiver on its store',
                properties: {
                  receivers: { type: 'integer', description: 'Receivers alive on the database, this one included' },
                  holder: { type: 'string', description: "This receiver's name among them" },
                  shards: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Delivery shards (of 32) this receiver sends, per destination' },
                  problems: {
                    type: 'array',
                    items: text,
                    description: "Differences between this receiver's destinations and the others' (events a receiver takes get deliveries only for its own destinations)",
                  },
                },
              },
            },
          }),
          401: error('Admin token missing or wrong'),
        },
      },
    },
    '/api/v1/destinations/{name}/test': {
      post: {
        summary: 'Queue a test event (type actionurl.test) for a destination',
        security: secured,
        parameters: [{ name: 'name', in: 'path', required: true, schema: text }],
        responses: { 202: json('Queued', { type: 'object', properties: { status: text } }), 401: error('Admin token missing or wrong'), 404: error('No such destination') },
      },
    },
    '/api/v1/destinations/{name}/enable': {
      post: {
        summary: 'Switch on again a destination that answered 410 Gone (it stays switched off across restarts until then)',
        description: 'Deliveries are made again from the next event on; the ones made dead by the switch-off stay dead until retried. Switching on a destination that is on does nothing.',
        security: secured,
        parameters: [{ name: 'name', in: 'path', required: true, schema: text }],
        responses: { 200: json('Switched on', ref('Destination')), 401: error('Admin token missing or wrong'), 404: error('No such destination') },
      },
    },
  };
}

export const deliverySchemas = {
  Delivery: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      webhook_id: { type: 'string', description: 'The webhook-id header: the same on every attempt' },
      destination: text,
      type: { type: 'string', description: 'phone.<incident>, call.ended, phone.online, phone.offline, phone.registration, actionurl.test' },
      mac: text,
      event_id: { type: ['integer', 'null'] },
      created_at: time,
      state: { enum: ['pending', 'failed', 'dead', 'delivered'] },
      attempts: { type: 'integer' },
      next_attempt_at: nullableTime,
      last_attempt_at: nullableTime,
      last_status: { type: ['integer', 'null'] },
      last_error: { type: ['string', 'null'] },
      delivered_at: nullableTime,
    },
  },
  Destination: {
    type: 'object',
    properties: {
      name: text,
      kind: { enum: ['webhook', 'mqtt'] },
      target: { type: 'string', description: 'URL (query and password hidden) or broker' },
      enabled: { type: 'boolean', description: 'False once the destination answered 410 Gone, until switched on again' },
      disabled_reason: { type: ['string', 'null'] },
      disabled_at: nullableTime,
      connected: { type: 'boolean' },
      queued: { type: 'integer', description: 'Deliveries read into memory, waiting or in flight' },
      in_flight: { type: 'integer' },
      last_success_at: nullableTime,
      last_failure_at: nullableTime,
      last_error: { type: ['string', 'null'] },
    },
  },
};
