// Entry: render the app, register the service worker (serves a verified release; stores/updates.ts).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { followUpdates } from './stores/updates.ts';
import './styles.css';
import { compileLdk } from './worker/ldk-module.ts';

// LDK's WASM compiles from the first moment (the longest step of a start); the worker gets the module
void compileLdk();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

if ('serviceWorker' in navigator && import.meta.env.PROD) followUpdates(navigator.serviceWorker);
