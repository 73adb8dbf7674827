/**
 * The small building blocks every part of the OpenAPI document is written with (openapi.ts and the parts it
 * takes in, such as openapi-control.ts), kept in one place so the parts describe errors, bodies and common
 * parameters the same way.
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
