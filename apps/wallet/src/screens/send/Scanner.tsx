// Camera QR scanning: the rear camera in a <video>, ten frames a second drawn on a canvas and read by
// @paulmillr/qr's decoder (QR codes only: all the wallet scans). Reports the first decoded text
// once, then stops the camera.
import decodeQR from '@paulmillr/qr/decode.js';
import { useEffect, useRef, useState } from 'react';
import { Notice } from '../../components/ui.tsx';

const FRAME_MS = 100;

// The decoder misses some codes at one sampling and reads them at another: on clean synthetic
// frames of random invoices (640×480, as the e2e camera plays) about 2.7% failed at full size, and
// every one of those was read at one of the smaller sizes. So successive frames are drawn at
// successive sizes; a real camera's noise varies the frames too.
const FRAME_SCALES = [1, 0.5, 0.75, 0.6];

/** Reads a QR code in the video's current frame, or undefined when there is none (yet). */
function qrReader(): (video: HTMLVideoElement) => string | undefined {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas to read camera frames from');
  let frames = 0;
  return (video) => {
    const { videoWidth, videoHeight } = video;
    if (!videoWidth || !videoHeight) return undefined;
    const scale = FRAME_SCALES[frames++ % FRAME_SCALES.length]!;
    const width = Math.round(videoWidth * scale);
    const height = Math.round(videoHeight * scale);
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    try {
      return decodeQR({ width, height, data: context.getImageData(0, 0, width, height).data });
    } catch {
      // the decoder is a pure function of the pixels: it throws only when this frame holds no
      // readable code (no finder patterns, a bad checksum…), so a throw is a miss, not a fault
      return undefined;
    }
  };
}

export function Scanner(props: { onText: (text: string) => void }) {
  const [problem, setProblem] = useState<string>();
  const video = useRef<HTMLVideoElement>(null);
  const onText = useRef(props.onText);
  onText.current = props.onText;
  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
    const scan = async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      } catch (error) {
        setProblem(
          /permission|notallowed/i.test(String(error))
            ? 'Camera access was refused. Allow it in the browser, or paste the invoice instead.'
            : 'No camera could be started. Paste the invoice instead.',
        );
        return;
      }
      if (stopped || !video.current) return stop(); // left the screen while the browser asked
      video.current.srcObject = stream;
      await video.current.play();
      const read = qrReader();
      const frame = () => {
        if (stopped || !video.current) return;
        const text = read(video.current);
        if (text === undefined) {
          timer = setTimeout(frame, FRAME_MS);
          return;
        }
        stop();
        onText.current(text);
      };
      frame();
    };
    scan().catch((error: unknown) => {
      if (stopped) return; // play() is aborted when the screen closes first
      stop();
      console.error('camera scan failed', error);
      setProblem('The camera could not be read. Paste the invoice instead.');
    });
    return stop;
  }, []);
  return (
    <div className="scanner">
      <div id="qr-reader" data-testid="qr-reader">
        <video ref={video} muted playsInline />
      </div>
      {problem && <Notice tone="warn">{problem}</Notice>}
    </div>
  );
}
