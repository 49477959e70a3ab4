// Stands in for html5-qrcode's bundled copy of ZXing (every 1D and 2D format, ~100 KB gzip) when the
// browser has no native BarcodeDetector: the wallet scans QR codes only (Scanner asks for QR_CODE),
// so ZXing's QR reader alone does the job. Exactly the names html5-qrcode's decoder uses; wired in
// vite.config.ts. Its MultiFormatReader ignored the constructor's hints and tried every format.

import { HTMLCanvasElementLuminanceSource } from '@zxing/library/esm/browser/HTMLCanvasElementLuminanceSource';
import BarcodeFormat from '@zxing/library/esm/core/BarcodeFormat';
import BinaryBitmap from '@zxing/library/esm/core/BinaryBitmap';
import HybridBinarizer from '@zxing/library/esm/core/common/HybridBinarizer';
import DecodeHintType from '@zxing/library/esm/core/DecodeHintType';
import QRCodeReader from '@zxing/library/esm/core/qrcode/QRCodeReader';

export { BarcodeFormat, BinaryBitmap, DecodeHintType, HTMLCanvasElementLuminanceSource, HybridBinarizer };

/** html5-qrcode builds one per frame and calls `decode`; a miss throws ZXing's NotFoundException. */
export class MultiFormatReader {
  private readonly reader = new QRCodeReader();
  decode(image: BinaryBitmap) {
    return this.reader.decode(image);
  }
}
