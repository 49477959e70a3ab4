// The lock screen: the PIN decrypts the words, which start the node.
import { useSession } from '../../stores/session.ts';
import { PinForm } from './PinForm.tsx';

export function Lock() {
  const unlock = useSession((s) => s.unlock);
  return (
    <PinForm
      title="Unlock"
      intro="Enter your PIN to open your wallet."
      submitLabel="Unlock"
      testId="screen-lock"
      onSubmit={unlock}
    />
  );
}
