// Entry: render the app, register the service worker (precaches the shell and LDK's WASM).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

/**
 * A new version's service worker takes over at once (skipWaiting + clientsClaim, vite.config.ts), so
 * a page an older version loaded reloads into the new one; the first install (no controller yet)
 * needs no reload. What vite-plugin-pwa's autoUpdate registration did, without workbox-window.
 */
function registerServiceWorker(container: ServiceWorkerContainer) {
  let controlled = container.controller !== null;
  container.addEventListener('controllerchange', () => {
    if (controlled) window.location.reload();
    controlled = true;
  });
  container.register('/sw.js', { scope: '/' }).catch((error: unknown) => {
    console.warn('service worker not registered (no offline start):', error);
  });
}

if ('serviceWorker' in navigator && import.meta.env.PROD) registerServiceWorker(navigator.serviceWorker);
