// Which copy of a backup to restore from: the newest VALID one among the LSP's, the device's own
// and a file the person imported. An LSP that serves an older copy (or none, or a broken one) while
// another copy is newer is either broken or trying to make the wallet run an old channel state,
// which the peer could punish: the person is told in plain words, and the newest copy is used.
import { type DecodedBackup, decodeBackup } from './codec.ts';
import { BackupError } from './errors.ts';
import type { BackupKeys } from './keys.ts';

export type CopySource = 'lsp' | 'device' | 'file';

export interface BackupCopy {
  source: CopySource;
  /** The copy's bytes; undefined when that place holds none. */
  blob: Uint8Array | undefined;
}

export interface ChosenCopy extends DecodedBackup {
  source: CopySource;
  blob: Uint8Array;
}

export interface CopyVerdict {
  source: CopySource;
  /** The version of a valid copy. */
  version?: number;
  /** Why a copy was refused. */
  error?: BackupError;
  /** No copy there at all. */
  missing?: boolean;
}

export interface BackupChoice {
  /** The newest valid copy, or undefined when none is valid. */
  chosen: ChosenCopy | undefined;
  verdicts: CopyVerdict[];
  /** Set when the LSP's copy is behind another copy, missing, or refused: say it to the person. */
  rollbackReport: string | undefined;
}

const PLACE: Record<CopySource, string> = { lsp: 'your LSP', device: 'this device', file: 'the backup file' };
// equal versions hold the same state; prefer the copy the LSP does not control
const PREFERENCE: CopySource[] = ['device', 'file', 'lsp'];

/** Decodes every copy and picks the newest valid one; never throws for a bad copy. */
export async function chooseNewest(
  copies: BackupCopy[],
  expect: { nodeId: string; keys: BackupKeys },
): Promise<BackupChoice> {
  const verdicts: CopyVerdict[] = [];
  let chosen: ChosenCopy | undefined;
  const ordered = [...copies].sort((a, b) => PREFERENCE.indexOf(a.source) - PREFERENCE.indexOf(b.source));
  for (const copy of ordered) {
    if (!copy.blob) {
      verdicts.push({ source: copy.source, missing: true });
      continue;
    }
    try {
      const decoded = await decodeBackup(copy.blob, expect);
      verdicts.push({ source: copy.source, version: decoded.header.version });
      if (!chosen || decoded.header.version > chosen.header.version) {
        chosen = { ...decoded, source: copy.source, blob: copy.blob };
      }
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      verdicts.push({ source: copy.source, error });
    }
  }
  return { chosen, verdicts, rollbackReport: report(verdicts, chosen) };
}

function report(verdicts: CopyVerdict[], chosen: ChosenCopy | undefined): string | undefined {
  const lsp = verdicts.find((v) => v.source === 'lsp');
  if (!lsp) return undefined;
  const why = 'An LSP that serves an old backup may be trying to make your wallet use an old channel state;';
  if (!chosen || chosen.source === 'lsp') {
    if (lsp.error)
      return `Your LSP served a backup that failed its check (${lsp.error.code}): ${lsp.error.message}. No other valid copy was found.`;
    return undefined;
  }
  const newest = `${PLACE[chosen.source]} holds version ${chosen.header.version}`;
  const served = lsp.missing
    ? 'Your LSP served no backup'
    : lsp.error
      ? `Your LSP served a backup that failed its check (${lsp.error.code})`
      : `Your LSP served backup version ${lsp.version}`;
  if (lsp.version !== undefined && lsp.version >= chosen.header.version) return undefined;
  return `${served}, but ${newest}. ${why} the wallet used the newest copy.`;
}
