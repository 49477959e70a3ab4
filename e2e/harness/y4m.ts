// A .y4m video (what Chromium's fake camera plays) showing one QR code, black on white.
import { writeFileSync } from 'node:fs';
import QRCode from 'qrcode';

export function writeQrVideo(path: string, text: string, frames = 20): void {
  const width = 640;
  const height = 480;
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const modules = qr.modules.size;
  const quiet = 4;
  // well inside the scanner's viewfinder (85% of the shorter side), quiet zone included
  const scale = Math.floor((Math.min(width, height) * 0.7) / (modules + 2 * quiet));
  const side = scale * (modules + 2 * quiet);
  const x0 = Math.floor((width - side) / 2);
  const y0 = Math.floor((height - side) / 2);
  const luma = Buffer.alloc(width * height, 235);
  for (let my = 0; my < modules; my++)
    for (let mx = 0; mx < modules; mx++) {
      if (!qr.modules.get(my, mx)) continue;
      for (let dy = 0; dy < scale; dy++) {
        const row = (y0 + (my + quiet) * scale + dy) * width;
        luma.fill(16, row + x0 + (mx + quiet) * scale, row + x0 + (mx + quiet + 1) * scale);
      }
    }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}
