// Camera QR scanning with html5-qrcode. Reports the first decoded text once, then stops the camera.
import { Html5Qrcode, Html5QrcodeSupportedFormats } from 'html5-qrcode';
import { useEffect, useRef, useState } from 'react';
import { Notice } from '../../components/ui.tsx';

const ELEMENT_ID = 'qr-reader';

export function Scanner(props: { onText: (text: string) => void }) {
  const [problem, setProblem] = useState<string>();
  const done = useRef(false);
  const onText = useRef(props.onText);
  onText.current = props.onText;
  useEffect(() => {
    const scanner = new Html5Qrcode(ELEMENT_ID, {
      verbose: false,
      formatsToSupport: [Html5QrcodeSupportedFormats.QR_CODE],
    });
    let started = false;
    scanner
      .start(
        { facingMode: 'environment' },
        {
          fps: 10,
          qrbox: (w: number, h: number) => {
            const side = Math.floor(Math.min(w, h) * 0.85);
            return { width: side, height: side };
          },
        },
        (text) => {
          if (done.current) return;
          done.current = true;
          void scanner.stop().finally(() => onText.current(text));
          started = false;
        },
        () => {},
      )
      .then(
        () => {
          started = true;
        },
        (error: unknown) =>
          setProblem(
            /permission|notallowed/i.test(String(error))
              ? 'Camera access was refused. Allow it in the browser, or paste the invoice instead.'
              : 'No camera could be started. Paste the invoice instead.',
          ),
      );
    return () => {
      if (started) void scanner.stop().catch(() => {});
    };
  }, []);
  return (
    <div className="scanner">
      <div id={ELEMENT_ID} data-testid="qr-reader" />
      {problem && <Notice tone="warn">{problem}</Notice>}
    </div>
  );
}
