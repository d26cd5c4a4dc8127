import type { Context } from 'hono';
import type { z } from 'zod';
import { Problem } from './problem.js';

/** Parses the body as JSON and validates it; anything else is a 400 with the reasons. */
export const validBody = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> => {
  const text = await c.req.text();
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
