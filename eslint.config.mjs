// One lint config for every workspace: typescript-eslint's type-checked recommended rules, plus the
// determinism rules that matter most in chaincode (enforced again by review and the stop hook).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Chaincode bounded contexts (docs/architecture.md "Chaincode layout"): the market reaches
// governance only through governance/index.ts; governance never imports the market; contracts never
// import contracts; pure domain code never imports Fabric, the context, persistence or services.
// ESLint replaces (does not merge) a rule's options across matching blocks, so each folder gets ONE
// block with every pattern that applies to it.
const boundary = {
  marketToGovernance: { group: ['**/governance/*'], message: 'The market may import governance only through governance/index.ts (import from \'../../governance\').' },
  governanceToMarket: { group: ['**/market', '**/market/**'], message: 'Governance never imports the market (bounded contexts, docs/architecture.md).' },
  // (gitignore semantics: a file under an excluded folder cannot be re-included, hence '*/*'.)
  kernelToContexts: { group: ['**/market', '**/market/**', '**/governance/index', '**/governance/*/*', '!**/governance/*/parameters'], message: 'The kernel is shared by every context and imports none of them (only the governance parameters document, for the clock guard).' },
  contractToContract: { group: ['./*', '**/contracts/*', '**/*.contract'], message: 'Contracts never import contracts: move the shared helper to the kernel or a service.' },
  domainPurity: { group: ['fabric-contract-api', 'fabric-shim', 'fabric-shim-api', '**/kernel/context', '**/kernel/contract', '**/kernel/state', '**/kernel/paging', '**/ledger/*', '**/services/*', '**/contracts/*'], message: 'Domain modules are pure functions over plain values: no Fabric, context, persistence or services.' },
};
const restrict = (files, ...groups) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns: groups }] } });
const boundaries = [
  restrict(['chaincode/src/market/contracts/**/*.ts'], boundary.marketToGovernance, boundary.contractToContract),
  restrict(['chaincode/src/market/domain/**/*.ts'], boundary.marketToGovernance, boundary.domainPurity),
  restrict(['chaincode/src/market/services/**/*.ts', 'chaincode/src/market/ledger/**/*.ts'], boundary.marketToGovernance),
  restrict(['chaincode/src/governance/contracts/**/*.ts'], boundary.governanceToMarket, boundary.contractToContract),
  restrict(['chaincode/src/governance/domain/**/*.ts'], boundary.governanceToMarket, boundary.domainPurity),
  restrict(['chaincode/src/governance/services/**/*.ts', 'chaincode/src/governance/ledger/**/*.ts', 'chaincode/src/governance/index.ts'], boundary.governanceToMarket),
  {
    files: ['chaincode/src/kernel/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '../governance', message: boundary.kernelToContexts.message }], patterns: [boundary.kernelToContexts] }] },
  },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', '.runtime/**', 'dashboard/**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  // Type-aware rules: one TypeScript program per workspace tsconfig.json, found by the project service
  // (the same projects `npx tsc -b` checks; docs/architecture.md "Type checking").
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      // Off: an `async` method without `await` (an interface's Promise-returning method, a fake in a
      // test) turns a throw into a rejection; dropping `async` to satisfy the rule would change that.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Tests read untyped JSON (REST answers, ledger results, decoded protobuf fields) and assert on it
  // with expect(), which checks the shape at run time; typing every answer only adds casts. The source
  // files keep the no-unsafe-* rules. unbound-method is off because expect(mock.method) is jest's idiom.
  {
    files: ['**/test/**/*.ts', 'test/**/*.ts', 'community/e2e/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
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
  ...boundaries,
  // The scripts' JavaScript helpers (network/fabric/lib/*.js, network/scripts/*.js, the protocol package's
  // build scripts, the conformance chaincode, jest configs): plain CommonJS run by node, linted with the
  // same recommended rules, without the TypeScript-only ones.
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-var-requires': 'off' },
  },
);
