// One lint config for every workspace: typescript-eslint's recommended rules, plus the
// determinism rules that matter most in chaincode (enforced again by review and the stop hook).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', '.runtime/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['chaincode/src/**/*.ts'],
    ignores: ['chaincode/src/**/*clock*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Chaincode must be deterministic: use ctx.stub.getTxTimestamp() via the clock guard.' },
        { object: 'Math', property: 'random', message: 'Chaincode must be deterministic: derive entropy from the committee beacon.' },
        { object: 'process', property: 'env', message: 'Chaincode must not depend on the endorsing peer\'s environment.' },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval'],
    },
  },
);
