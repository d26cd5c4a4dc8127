import { defineConfig } from 'drizzle-kit';

// The drizzle schema files are the single source of the tables; `npm run db:generate` writes
// the SQL migrations under drizzle/, which are committed and applied at start-up.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/**/schema.ts',
  out: './drizzle',
});
