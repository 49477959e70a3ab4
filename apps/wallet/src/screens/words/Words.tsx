// Recovery words, shown again only after the lock is opened again; they work even when the LSP is down.
import { useState } from 'react';
import { Frame, Notice } from '../../components/ui.tsx';
import { lockOf } from '../../lib/vault.ts';
import { useNav } from '../../stores/nav.ts';
import { useSession } from '../../stores/session.ts';
import { LockForm } from '../lock/LockForm.tsx';

export function Words() {
  const [words, setWords] = useState<string[]>();
  const reveal = useSession((s) => s.revealWords);
  const lock = useSession((s) => (s.vault ? lockOf(s.vault) : 'pin'));
  const go = useNav((s) => s.go);
  if (!words)
    return (
      <LockForm
        title="Recovery words"
        intro="Unlock again to see your recovery words."
        lock={lock}
        submitLabel="Show words"
        testId="screen-words-pin"
        onCancel={() => go('settings')}
        onSubmit={async (choice) =>
          setWords(await reveal(choice.kind === 'passkey' ? undefined : choice.text))
        }
      />
    );
  return (
    <Frame title="Recovery words" back testId="screen-words">
      <ol className="words" data-testid="recovery-words">
        {words.map((w, i) => (
          <li key={`${i}-${w}`}>
            <span className="n">{i + 1}</span> <span className="w">{w}</span>
          </li>
        ))}
      </ol>
      <Notice tone="warn">Never share them. Anyone with these words can take your money.</Notice>
    </Frame>
  );
}
