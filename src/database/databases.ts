import postgres from 'postgres';

/** The URL of another database on the same server. */
export const databaseUrl = (serverUrl: string, name: string): string => {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

/** Creates the database unless it exists (used for the embedded server and per test file). */
export const ensureDatabase = async (serverUrl: string, name: string): Promise<string> => {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const [existing] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!existing) await admin`create database ${admin(name)}`;
  } finally {
    await admin.end({ timeout: 5 });
  }
  return databaseUrl(serverUrl, name);
};

/** Drops a database, disconnecting whoever is still on it. */
export const dropDatabase = async (serverUrl: string, name: string): Promise<void> => {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`drop database if exists ${admin(name)} with (force)`;
  } finally {
    await admin.end({ timeout: 5 });
  }
};
