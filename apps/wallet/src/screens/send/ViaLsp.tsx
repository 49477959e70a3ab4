// Said wherever the person confirms something another site sent, when the LSP's relay carried it
// (the site could not be reached directly): the LSP could have changed it.
import { Notice } from '../../components/ui.tsx';

export function ViaLsp(props: { host: string }) {
  return (
    <Notice tone="warn" testId="via-lsp">
      Fetched via your LSP: this device could not reach {props.host} directly, so your service provider asked
      it for you, and could have changed the answer. Check the amount and who you are paying.
    </Notice>
  );
}
