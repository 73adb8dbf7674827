/**
 * The small building blocks every part of the OpenAPI document is written with (the `openapi-<part>.ts`
 * beside each route module, which openapi.ts puts together), kept in one place so the parts describe errors,
 * bodies and common parameters the same way.
 */

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const text = { type: 'string' };
export const nullableText = { type: ['string', 'null'] };
export const time = { type: 'string', format: 'date-time' };
export const nullableTime = { type: ['string', 'null'], format: 'date-time' };
export const query = (name: string, description: string, schema: object = text) => ({ name, in: 'query', required: false, description, schema });
export const error = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
export const plain = (description: string) => ({ description, content: { 'text/plain': { schema: text } } });
export const json = (description: string, schema: object) => ({ description, content: { 'application/json': { schema } } });
export const macPath = { name: 'mac', in: 'path', required: true, description: 'Any MAC spelling', schema: text };

/** A required JSON object body that takes only the fields listed (`extra`: more schema keywords, e.g. `required`). */
export const jsonBody = (properties: object, extra: object = {}) => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: false, ...extra, properties } } },
});

/** Query parameters several endpoints take, described once. */
export const mac = query('mac', 'Phone MAC, any spelling (00:15:65:AA:BB:CC, 001565aabbcc)');
export const limit = query('limit', 'Page size, 1..1000 (default 100)', { type: 'integer', minimum: 1, maximum: 1000 });
export const before = query('before', 'The `next` value of the previous page', { type: 'integer' });
export const since = query('since', 'ISO 8601 time, or a span back from now: 90m, 24h, 7d');
export const until = query('until', 'End of the range (exclusive): ISO 8601 time, or a span back from now');
export const group = query('group', "Only phones in this inventory group (exact name); an unknown group matches nothing");
