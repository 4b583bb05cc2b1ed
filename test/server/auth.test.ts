import { describe, expect, it } from 'vitest';
import { displayHost, newToken, originAllowed, parseCookies, tokenCookie, tokenCookieName } from '../../main/server/auth.ts';

describe('token and origin rules', () => {
  it('makes long, URL-safe, fresh tokens', () => {
    const a = newToken();
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(newToken()).not.toBe(a);
  });

  it('scopes the cookie by port and marks it HttpOnly and SameSite=Strict', () => {
    expect(tokenCookieName(8080)).toBe('dlflow_token_8080');
    expect(tokenCookie('t', 8080)).toBe('dlflow_token_8080=t; Path=/; HttpOnly; SameSite=Strict');
    expect(parseCookies('a=1; dlflow_token_8080=x%2By; broken; =v')).toEqual(
      new Map([
        ['a', '1'],
        ['dlflow_token_8080', 'x+y'],
      ]),
    );
  });

  it('accepts only the page origins of this server', () => {
    expect(originAllowed(undefined, 'h', '127.0.0.1', 5000)).toBe(true);
    for (const origin of ['http://127.0.0.1:5000', 'http://localhost:5000', 'http://[::1]:5000']) {
      expect(originAllowed(origin, '127.0.0.1:5000', '127.0.0.1', 5000), origin).toBe(true);
    }
    for (const origin of ['http://127.0.0.1:5001', 'https://127.0.0.1:5000', 'http://evil.example', 'null', 'http://192.168.1.2:5000']) {
      expect(originAllowed(origin, '127.0.0.1:5000', '127.0.0.1', 5000), origin).toBe(false);
    }
    // Bound to every interface: the LAN address works when the request went there too.
    expect(originAllowed('http://192.168.1.2:5000', '192.168.1.2:5000', '0.0.0.0', 5000)).toBe(true);
    expect(originAllowed('http://evil.example:5000', '192.168.1.2:5000', '0.0.0.0', 5000)).toBe(false);
    expect(originAllowed('http://[fe80::1]:5000', 'x', 'fe80::1', 5000)).toBe(true);
  });

  it('prints a reachable host', () => {
    expect(displayHost('0.0.0.0')).toBe('127.0.0.1');
    expect(displayHost('::')).toBe('127.0.0.1');
    expect(displayHost('::1')).toBe('[::1]');
    expect(displayHost('localhost')).toBe('localhost');
  });
});
