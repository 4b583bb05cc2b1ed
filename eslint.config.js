// Lint config. The layer rules below are the design's import boundaries (DESIGN.md "Layers"):
// a stray import across a layer fails lint, as VS Code enforces common/node/electron-main.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const outside = (msg, ...group) => ({ group, message: msg });

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'scratch/**', 'test-results/**', '.dlflow-cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-undef': 'off',
    },
  },
  {
    files: ['main/protocol/**'],
    rules: restrict([
      outside('protocol imports nothing outside main/protocol', '../*', '!./*', 'node:*', 'electron', '@tensorflow/*', 'react', 'zod'),
    ]),
  },
  {
    files: ['main/engine/**'],
    rules: restrict([
      outside('the engine never imports electron, the renderer, nodes/ or other front ends', 'electron', '**/renderer/**', '**/nodes/**', '**/cli/**', '**/server/**', '**/app/**', '**/preload/**', 'react', 'react-dom'),
    ]),
  },
  {
    files: ['main/cli/**', 'main/server/**'],
    rules: restrict([outside('cli and server run without Electron or the renderer', 'electron', '**/renderer/**', '**/app/**', '**/preload/**')]),
  },
  {
    files: ['nodes/**'],
    rules: restrict([outside('nodes import only the engine API and protocol', 'electron', '**/renderer/**', '**/cli/**', '**/server/**', '**/app/**', '**/preload/**')]),
  },
  {
    files: ['renderer/**'],
    rules: restrict([
      outside('the renderer imports only protocol types from main/', '**/main/engine/**', '**/main/cli/**', '**/main/server/**', '**/main/app/**', '**/nodes/**', 'electron', 'node:*', '@tensorflow/*', 'sharp'),
    ]),
  },
  {
    files: ['main/preload/**'],
    rules: restrict([outside('preload only bridges IPC', '**/engine/**', '**/nodes/**', '**/renderer/**')]),
  },
);
