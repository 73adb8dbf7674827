/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of everything the receiver serves. Incident slugs
 * and variable names come from the catalog, so the document never disagrees with the decoder.
 */
import { INCIDENTS, VARIABLES } from '../../core/catalog.ts';
import { OUTCOMES } from './rest.ts';
import { controlPaths, controlSchemas } from './openapi-control.ts';
import { error, json, jsonBody, macPath, nullableTime, plain, query, ref, text, time } from './openapi-shapes.ts';

const PRESENCES = ['offline', 'unregistered', 'idle', 'ringing', 'dialing', 'talking', 'held', 'dnd'];

const mac = query('mac', 'Phone MAC, any spelling (00:15:65:AA:BB:CC, 001565aabbcc)');
const limit = query('limit', 'Page size, 1..1000 (default 100)', { type: 'integer', minimum: 1, maximum: 1000 });
const before = query('before', 'The `next` value of the previous page', { type: 'integer' });
const since = query('since', 'ISO 8601 time, or a span back from now: 90m, 24h, 7d');
const until = query('until', 'End of the range (exclusive): ISO 8601 time, or a span back from now');
const group = query('group', "Only phones in this inventory group (exact name); an unknown group matches nothing");
const format = query('format', 'csv or jsonl: the whole range as a streamed download instead of a page (limit is ignored)', { enum: ['json', 'csv', 'jsonl'] });
const downloads = {
  'text/csv': { schema: { type: 'string', description: 'A header line, then one line per row; cells starting with = + - @ get a leading \'' } },
  'application/x-ndjson': { schema: { type: 'string', description: 'One JSON object per line' } },
};
const reportParams = [
  query('from', 'Start: ISO 8601 time or a span back from now (rounded down to the hour; default to minus 7 days)'),
  query('to', 'End, exclusive: ISO 8601 time or a span back from now (rounded up to the hour; default now)'),
  group,
  query('sl', 'Service level threshold in seconds (default 20)', { enum: [5, 10, 15, 20, 30, 60] }),
];
const figures = {
  calls: { type: 'integer', description: 'Ended calls that started in the period, any direction' },
  calls_in: { type: 'integer' },
  calls_out: { type: 'integer' },
  answered_in: { type: 'integer', description: 'Incoming calls whose outcome is answered or transferred' },
  answered_out: { type: 'integer', description: 'Outgoing calls the far end answered (outcome answered or transferred)' },
  missed: { type: 'integer' },
  rejected: { type: 'integer' },
  forwarded: { type: 'integer' },
  answer_rate: { type: ['number', 'null'], description: 'answered_in / calls_in' },
  average_ring_seconds: { type: ['number', 'null'], description: 'Start to answer, over answered incoming calls' },
  service_level: { type: ['number', 'null'], description: 'Share of incoming calls answered within `sl` seconds' },
  talk_seconds: { type: 'number', description: 'Answer to end, over answered calls of both directions' },
};
const reportEnvelope = {
  from: time,
  to: time,
  group: { type: ['string', 'null'] },
  service_level_seconds: { type: 'integer' },
};
const report = (key: string, item: object) =>
  json('The report', { type: 'object', properties: { ...reportEnvelope, [key]: { type: 'array', items: item } } });
const REPORT_ERRORS = { 400: error('A parameter is invalid'), 401: error('Admin token missing or wrong') };
const inventoryEntry = {
  type: 'object',
  properties: { mac: text, name: text, location: text, groups: { type: 'array', items: text } },
};

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
    paths: {
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
      '/api/v1/events': {
        get: {
          summary: 'Stored events, newest first',
          security: secured,
          parameters: [mac, group, query('incident', 'Incident slug', ref('Incident')), query('call_id', "The phone's $call_id"), since, until, limit, before, format],
          responses: {
            200: {
              description: 'A page of events (or, with format, all of them as a download)',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['events', 'next'],
                    properties: { events: { type: 'array', items: ref('Event') }, next: { type: ['integer', 'null'] } },
                  },
                },
                ...downloads,
              },
            },
            400: error('A parameter is invalid'),
            401: error('Admin token missing or wrong'),
          },
        },
      },
      '/api/v1/phones': {
        get: {
          summary: 'Every phone that sent an event, by MAC, a page at a time, with a summary of its live state',
          description: 'Pass `next` back as `after` for the following page; `null` means there is no more. A phone\'s calls are at /api/v1/phones/{mac} and /api/v1/calls; the summary has the first open call and how many are open.',
          security: secured,
          parameters: [
            group,
            query('after', 'MAC: only phones after it (the `next` of the previous page)'),
            query('limit', 'Phones per page, 1 to 1000 (default 500)', { type: 'integer', minimum: 1, maximum: 1000 }),
          ],
          responses: {
            200: json('Phones by MAC', {
              type: 'object',
              properties: {
                phones: { type: 'array', items: ref('PhoneSummary') },
                next: { type: ['string', 'null'], description: 'The last MAC of this page when more follow, else null' },
                total: { type: 'integer', description: 'Phones known to the receiver' },
              },
            }),
            400: error('Bad parameter'),
            401: error('Admin token missing or wrong'),
          },
        },
      },
      '/api/v1/phones/{mac}': {
        get: {
          summary: 'One phone, with its 20 most recent calls',
          security: secured,
          parameters: [macPath],
          responses: {
            200: json('The phone', {
              allOf: [ref('Phone'), { type: 'object', properties: { recent_calls: { type: 'array', items: ref('Call') } } }],
            }),
            400: error('Not a MAC address'),
            401: error('Admin token missing or wrong'),
            404: error('No such phone'),
          },
        },
        patch: {
          summary: "Set a phone's name, location and groups (fields left out keep their value); the phone need not have sent an event yet",
          security: secured,
          parameters: [macPath],
          requestBody: jsonBody({
            name: { type: 'string', maxLength: 100 },
            location: { type: 'string', maxLength: 100 },
            groups: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 50 } },
          }),
          responses: {
            200: json('The phone (or, for a phone not heard yet, its inventory entry)', ref('Phone')),
            400: error('Not JSON, an unknown field, or a value too long or with control characters'),
            401: error('Admin token missing or wrong'),
            403: error('Sent by a browser from another site'),
            503: error('PostgreSQL is unreachable, or still moving in what its local journal held: nothing was changed; try again'),
          },
        },
        delete: {
          summary: 'Forget a phone: it leaves the board, the state and the inventory; its next event starts it anew',
          security: secured,
          parameters: [
            { name: 'mac', in: 'path', required: true, description: 'Any MAC spelling', schema: text },
            query('purge', 'events: also delete its events and calls (and so its share of the reports)', { enum: ['events'] }),
          ],
          responses: {
            200: json('Forgotten', { type: 'object', properties: { forgotten: text, events_purged: { type: 'boolean' } } }),
            400: error('Not a MAC address, or purge is not "events"'),
            401: error('Admin token missing or wrong'),
            403: error('Sent by a browser from another site'),
            404: error('No such phone'),
            503: error('PostgreSQL is unreachable, or still moving in what its local journal held: nothing was forgotten; try again'),
          },
        },
      },
      '/api/v1/inventory': {
        get: {
          summary: 'The phone inventory (names, locations, groups) and the group names in use',
          security: secured,
          parameters: [query('format', 'csv: a download with the columns mac,name,location,groups', { enum: ['json', 'csv'] })],
          responses: {
            200: {
              description: 'The inventory',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { inventory: { type: 'array', items: inventoryEntry }, groups: { type: 'array', items: text } } },
                },
                'text/csv': { schema: text },
              },
            },
            401: error('Admin token missing or wrong'),
          },
        },
        post: {
          summary: 'Import inventory CSV: the phones listed get the values in the file; others keep theirs',
          description:
            'Columns by the header line (mac,name,location,groups in any order; mac required; a missing column keeps the stored value), or without one in that order. MACs in any spelling; groups separated by `;`. An optional control_url column approves each phone\'s remote-control address (checked as PUT /api/v1/phones/{mac}/control checks it; an empty cell changes nothing). A file with any bad line imports nothing.',
          security: secured,
          requestBody: { required: true, content: { 'text/csv': { schema: text } } },
          responses: {
            200: json('Imported', { type: 'object', properties: { imported: { type: 'integer' }, control_urls: { type: 'integer', description: 'Control addresses set (only when the file had any)' } } }),
            400: json('Nothing imported', { type: 'object', properties: { error: text, problems: { type: 'array', items: text } } }),
            401: error('Admin token missing or wrong'),
            403: error('Sent by a browser from another site'),
            503: error('PostgreSQL is unreachable, or still moving in what its local journal held: nothing was imported; try again'),
          },
        },
      },
      '/api/v1/reports/phones': {
        get: {
          summary: 'Call figures per phone for a period',
          security: secured,
          parameters: reportParams,
          responses: { 200: report('phones', { type: 'object', properties: { ...inventoryEntry.properties, ...figures } }), ...REPORT_ERRORS },
        },
      },
      '/api/v1/reports/accounts': {
        get: {
          summary: 'Call figures per account (user@host of the call\'s local party), with the extension (its user part)',
          security: secured,
          parameters: reportParams,
          responses: {
            200: report('accounts', {
              type: 'object',
              properties: { account: text, extension: text, display_name: text, phones: { type: 'array', items: text }, ...figures },
            }),
            ...REPORT_ERRORS,
          },
        },
      },
      '/api/v1/reports/groups': {
        get: {
          summary: 'Call figures per inventory group (a phone in two groups counts in both)',
          security: secured,
          parameters: reportParams,
          responses: { 200: report('groups', { type: 'object', properties: { group: text, phones: { type: 'integer' }, ...figures } }), ...REPORT_ERRORS },
        },
      },
      '/api/v1/reports/heatmap': {
        get: {
          summary: 'Calls per local weekday × hour (7 × 24 cells, Monday 00:00 first)',
          security: secured,
          parameters: [...reportParams, query('tz', 'IANA time zone (default UTC)')],
          responses: {
            200: json('The heat map', {
              type: 'object',
              properties: {
                ...reportEnvelope,
                tz: text,
                weekdays: { type: 'array', items: text },
                cells: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { weekday: { type: 'integer' }, hour: { type: 'integer' }, calls: { type: 'integer' }, answered: { type: 'integer' }, missed: { type: 'integer' } },
                  },
                },
              },
            }),
            ...REPORT_ERRORS,
          },
        },
      },
      '/api/v1/calls': {
        get: {
          summary: 'The call log, newest first',
          security: secured,
          parameters: [mac, group, query('outcome', 'Call outcome', { enum: OUTCOMES }), since, until, limit, before, format],
          responses: {
            200: {
              description: 'A page of calls (or, with format, all of them as a download, each with phone_name, location, groups and account)',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      calls: { type: 'array', items: { allOf: [ref('Call'), { type: 'object', properties: { id: { type: 'integer' } } }] } },
                      next: { type: ['integer', 'null'] },
                    },
                  },
                },
                ...downloads,
              },
            },
            400: error('A parameter is invalid'),
            401: error('Admin token missing or wrong'),
          },
        },
      },
      '/api/v1/rejected': {
        get: {
          summary: 'Refused requests, newest first, with the reason',
          security: secured,
          parameters: [since, limit, before],
          responses: {
            200: json('A page of refused requests', {
              type: 'object',
              properties: { rejected: { type: 'array', items: ref('Rejected') }, next: { type: ['integer', 'null'] } },
            }),
            401: error('Admin token missing or wrong'),
          },
        },
      },
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
      ...controlPaths(secured),
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Text format 0.0.4', content: { 'text/plain': { schema: text } } } } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: text } },
        ...controlSchemas,
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
        Incident: { type: 'string', enum: INCIDENTS.map((i) => i.slug) },
        Event: {
          type: 'object',
          required: ['id', 'received_at', 'mac', 'incident', 'vars', 'source_ip'],
          properties: {
            id: { type: 'integer' },
            received_at: time,
            mac: { type: 'string', pattern: '^[0-9a-f]{12}$' },
            incident: ref('Incident'),
            vars: {
              type: 'object',
              description: 'Variables by canonical name (without $); empty when the phone sent nothing or a literal placeholder',
              properties: Object.fromEntries(VARIABLES.map((v) => [v.name, { type: 'string', description: v.description }])),
              additionalProperties: false,
            },
            extra: { type: 'object', description: 'Parameters that are not variables', additionalProperties: text },
            source_ip: text,
            raw: { type: 'string', description: 'The request target as received, token values blanked' },
          },
        },
        Call: {
          type: 'object',
          properties: {
            mac: text,
            call_id: text,
            direction: { enum: ['incoming', 'outgoing', 'unknown'] },
            remote: { type: 'string', description: '$remote as the phone sent it (often a SIP URI)' },
            number: { type: 'string', description: "The other party's number from `remote` (`2001` of `sip:2001@pbx`); '' when it holds none" },
            display_remote: text,
            local: text,
            phase: { enum: ['dialing', 'ringing', 'talking', 'held', 'ended'] },
            outcome: { enum: OUTCOMES },
            muted: { type: 'boolean' },
            started_at: time,
            answered_at: nullableTime,
            ended_at: nullableTime,
            ring_seconds: { type: ['number', 'null'] },
            talk_seconds: { type: ['number', 'null'] },
            ended_by: {
              type: ['string', 'null'],
              description: 'What ended the call: the incident slug, `timeout` (no event for too long), or `call_limit` (the phone had more than 8 open calls; the oldest unanswered one was closed)',
            },
          },
        },
        Phone: {
          type: 'object',
          properties: {
            mac: text,
            name: { type: 'string', description: "The administrator's name for it ('' when none)" },
            location: text,
            groups: { type: 'array', items: text },
            ip: text,
            model: text,
            firmware: text,
            presence: { enum: PRESENCES },
            registered: { type: ['boolean', 'null'] },
            accounts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: text,
                  registered: { type: ['boolean', 'null'] },
                  failed: { type: 'boolean' },
                  since: nullableTime,
                  display_name: { type: 'string', description: "The account's $display_local, '' until a call carried one" },
                },
              },
            },
            dnd: { type: 'boolean' },
            forward: { type: 'object', properties: { always: { type: 'boolean' }, busy: { type: 'boolean' }, no_answer: { type: 'boolean' } } },
            muted: { type: 'boolean' },
            off_hook: { type: 'boolean' },
            busy: { type: 'boolean' },
            calls: { type: 'array', items: ref('Call') },
            first_seen: time,
            last_seen: time,
            last_event_id: { type: 'integer' },
          },
        },
        PhoneSummary: {
          type: 'object',
          description: 'A Phone without its `calls`, with `open_calls` (how many, at most 8) and `call` (the first open call, or null)',
          properties: {
            mac: text,
            presence: { enum: PRESENCES },
            open_calls: { type: 'integer', minimum: 0, maximum: 8 },
            call: { oneOf: [ref('Call'), { type: 'null' }] },
          },
          additionalProperties: true,
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
        Rejected: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            received_at: time,
            source_ip: text,
            method: text,
            status: { type: 'integer' },
            reason: text,
            raw: text,
            count: { type: 'integer', description: 'How many refused requests this row stands for (more than 1: a summary of a flood)' },
          },
        },
      },
    },
  };
}
