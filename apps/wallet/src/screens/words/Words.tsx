// Recovery words, shown again only after the PIN; they work even when the LSP is down.
import { useState } from 'react';
import { Frame, Notice } from '../../components/ui.tsx';
import { useNav } from '../../stores/nav.ts';
import { useSession } from '../../stores/session.ts';
import { PinForm } from '../lock/PinForm.tsx';

export function Words() {
  const [words, setWords] = useState<string[]>();
  const reveal = useSession((s) => s.revealWords);
  const go = useNav((s) => s.go);
  if (!words)
    return (
      <PinForm
        title="Recovery words"
        intro="Enter your PIN to see your recovery words."
        submitLabel="Show words"
        testId="screen-words-pin"
        onCancel={() => go('settings')}
        onSubmit={async (pin) => setWords(await reveal(pin))}
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
