// ESLint with typescript-eslint's type-aware rules: above all, promises that are neither awaited
// nor handled (no-floating-promises) and promises passed where a plain value is expected
// (no-misused-promises), the mistakes a service built on async I/O makes most.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'loadtest/results/',
      'test-results/',
      'public/',
      'drizzle/',
      '.data/',
      'scratch/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A leading underscore names what is left unused on purpose (a skipped tuple member, say).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
        },
      ],
      // An async function that returns a promise or a value is how promise-typed callbacks read here.
      '@typescript-eslint/require-await': 'off',
      // A timer declared before the callback that clears it, and set after, is assigned once but read before.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read JSON answers loosely on purpose: their assertions say the shape.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // k6 scripts run in k6, which provides these.
    files: ['loadtest/k6/**/*.js'],
    languageOptions: { globals: { __ENV: 'readonly', console: 'readonly' } },
  },
);
