// Shown over every screen: a verified new version the person may take ("Update available — what
// changed"), or a version the wallet refused and why.
import { useUpdates } from '../stores/updates.ts';
import { Notice } from './ui.tsx';

export function UpdateNotice() {
  const state = useUpdates((s) => s.state);
  const untrusted = useUpdates((s) => s.untrusted);
  const apply = useUpdates((s) => s.apply);
  if (state.kind === 'available')
    return (
      <div className="update-notice" data-testid="update-available">
        <Notice tone="info">
          <strong>Update available — version {state.version}.</strong> What changed: {state.notes}
          <div className="actions">
            <button type="button" className="primary" onClick={apply}>
              Update now
            </button>
          </div>
        </Notice>
      </div>
    );
  if (state.kind === 'refused')
    return (
      <div className="update-notice" data-testid="update-refused">
        <Notice tone="error">
          <strong>An update was refused:</strong> {state.reason}. This wallet keeps running the version you
          have.
          {untrusted &&
            ' Don’t unlock the wallet at this address until its publisher says it is safe again: your recovery words restore it anywhere.'}
        </Notice>
      </div>
    );
  return null;
}
