// A QR code drawn on a canvas (no data: URLs, nothing inline for the CSP to allow).
import QRCode from 'qrcode';
import { useEffect, useRef } from 'react';

export function QrCode(props: { text: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    void QRCode.toCanvas(canvas.current, props.text.toUpperCase(), {
      errorCorrectionLevel: 'M',
      margin: 2,
      width: 288,
    });
  }, [props.text]);
  return <canvas ref={canvas} className="qr" role="img" aria-label={props.label} />;
}
