import { describe, expect, it } from 'vitest';
import { connectableUrl } from './connect-url.ts';

describe('connectableUrl: what the CSP lets the wallet reach', () => {
  it('https anywhere, in every build', () => {
    expect(connectableUrl(' https://lsp.example/ ', false)?.origin).toBe('https://lsp.example');
    expect(connectableUrl('https://esplora.example/api', false)?.href).toBe('https://esplora.example/api');
  });
  it('plain http only to loopback, only in a devnet build', () => {
    expect(connectableUrl('http://127.0.0.1:8080', true)?.origin).toBe('http://127.0.0.1:8080');
    expect(connectableUrl('http://localhost:3002/api', true)?.origin).toBe('http://localhost:3002');
    expect(connectableUrl('http://127.0.0.1:8080', false)).toBeNull();
    expect(connectableUrl('http://lsp.example', true)).toBeNull();
    expect(connectableUrl('http://127.0.0.1.lsp.example', true)).toBeNull();
  });
  it('anything else is refused', () => {
    for (const typed of ['', 'lsp.example', 'ftp://lsp.example', 'javascript:alert(1)'])
      expect(connectableUrl(typed, true)).toBeNull();
  });
});
