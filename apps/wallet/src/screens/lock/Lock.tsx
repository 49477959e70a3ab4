// The lock screen: the PIN, passphrase or passkey decrypts the words (in the worker), which start the node.
import { lockOf } from '../../lib/vault.ts';
import { useSession } from '../../stores/session.ts';
import { LockForm } from './LockForm.tsx';

export function Lock() {
  const unlock = useSession((s) => s.unlock);
  const lock = useSession((s) => (s.vault ? lockOf(s.vault) : 'pin'));
  return (
    <LockForm
      title="Unlock"
      intro={
        lock === 'passkey'
          ? 'Use your passkey to open your wallet.'
          : `Enter your ${lock === 'pin' ? 'PIN' : 'passphrase'} to open your wallet.`
      }
      lock={lock}
      submitLabel="Unlock"
      testId="screen-lock"
      onSubmit={(choice) => unlock(choice.kind === 'passkey' ? undefined : choice.text)}
    />
  );
}
