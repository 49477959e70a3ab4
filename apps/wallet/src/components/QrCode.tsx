// A QR code drawn on a canvas (no data: URLs, nothing inline for the CSP to allow), one square per
// module at twice the displayed size so it stays sharp on high-density screens.
import encodeQR from '@paulmillr/qr';
import { useEffect, useRef } from 'react';

const DISPLAY_PX = 288; // the .qr style's size

export function QrCode(props: { text: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!canvas.current || !context) return;
    // upper case lets bech32 invoices and addresses use QR's denser alphanumeric mode
    const modules = encodeQR(props.text.toUpperCase(), 'raw', { ecc: 'medium', border: 2 });
    const scale = Math.max(1, Math.round((2 * DISPLAY_PX) / modules.length));
    canvas.current.width = canvas.current.height = modules.length * scale;
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.current.width, canvas.current.height);
    context.fillStyle = '#000';
    modules.forEach((row, y) => {
      row.forEach((dark, x) => {
        if (dark) context.fillRect(x * scale, y * scale, scale, scale);
      });
    });
  }, [props.text]);
  return <canvas ref={canvas} className="qr" role="img" aria-label={props.label} />;
}
