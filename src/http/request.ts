import type { Context } from 'hono';
import type { z } from 'zod';
import { Problem } from './problem.js';

/**
 * A JSON media type: application/json or any type with the structured `+json` suffix (RFC 6839),
 * parameters such as charset allowed. Case-insensitive, as media types are.
 */
const JSON_MEDIA_TYPE = /^(?:application\/json|[\w.!#$&^-]+\/[\w.!#$&^-]+\+json)\s*(?:;|$)/i;

/**
 * The body must say it is JSON before it is read as JSON. A missing Content-Type is refused as
 * well: a body sent without one (curl's -d sends form encoding, fetch sends text/plain) was not
 * meant as JSON by its sender, and a 415 that names the type to send is clearer than a guess.
 */
const requireJson = (contentType: string | undefined) => {
  if (contentType !== undefined && JSON_MEDIA_TYPE.test(contentType)) return;
  throw new Problem(
    415,
    'unsupported_media_type',
    `Request bodies are JSON: send them with Content-Type: application/json${
      contentType === undefined ? '' : `, not ${contentType.slice(0, 100)}`
    }.`,
  );
};

/** Parses the body as JSON and validates it; anything else is a 4xx with the reasons. */
export const validBody = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> => {
  requireJson(c.req.header('content-type'));
  return validJson(await c.req.text(), schema);
};

/** As `validBody`, for a route whose body may be left out: no body at all reads as `{}`. */
export const validOptionalBody = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> => {
  const text = await c.req.text();
  if (text === '') return valid(schema, {}, 'body');
  requireJson(c.req.header('content-type'));
  return validJson(text, schema);
};

const validJson = <S extends z.ZodType>(text: string, schema: S): z.output<S> => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Problem(400, 'malformed_json', 'The request body is not valid JSON.');
  }
  return valid(schema, body, 'body');
};

/** Validates path parameters or a query string; anything else is a 400 with the reasons. */
export const valid = <S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> => {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || where,
    message: issue.message,
  }));
  const first = issues[0];
  throw new Problem(
    400,
    'invalid_request',
    `Invalid ${where}: ${first ? `${first.path} ${first.message}` : 'rejected'}.`,
    {
      issues,
    },
  );
};
