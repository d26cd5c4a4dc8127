import { newOperatorToken } from '../src/operator-token-file.js';

/**
 * The operator token the harness sends on the operator routes it calls (creating its conferences,
 * listing their reservations and events for the audits): ADMIN_TOKEN of its environment, which a
 * `--target` server must have been started with; otherwise one made for this run, which the
 * servers and clusters it starts are given as their ADMIN_TOKEN. Never on a command line, where
 * `ps` would show it.
 */
export const OPERATOR_TOKEN = process.env.ADMIN_TOKEN || newOperatorToken();

/** The header of an operator request. */
export const operatorHeaders = { authorization: `Bearer ${OPERATOR_TOKEN}` } as const;
