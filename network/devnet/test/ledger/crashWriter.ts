/**
 * Child process for the crash test: commits blocks forever and reports each committed block on
 * stdout, until the parent SIGKILLs it. Block n writes counter=n and b<n>=n in one transaction.
 */
import { LedgerStore } from '../../src/ledger';
import { block, tx } from './helpers';

async function main(): Promise<void> {
  const store = await LedgerStore.open(process.argv[2]!);
  for (let n = store.height(); ; n++) {
    const value = Buffer.from(String(n));
    const big = Buffer.alloc(64 * 1024, n % 251); // make each batch large enough to be torn if it weren't atomic
    await store.commit(
      block(n, [
        tx(`tx${n}`, 0, {
          publicWrites: [
            { ns: 'cc', key: 'counter', value },
            { ns: 'cc', key: `b${n}`, value },
            { ns: 'cc', key: `big${n % 4}`, value: big },
          ],
        }),
      ]),
    );
    process.stdout.write(`${n}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(String(err));
  process.exit(2);
});
