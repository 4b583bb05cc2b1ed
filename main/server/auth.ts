/** The per-start token (URL query or cookie) and the WebSocket Origin check. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A fresh random token: 32 bytes, URL-safe base64. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Cookie name for the token. Cookies ignore ports, so two servers on the same host would
 * overwrite each other's token under one name; the port keeps them apart.
 */
export function tokenCookieName(port: number): string {
  return `dlflow_token_${port}`;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const raw of (header ?? '').split(';')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface TokenCheck {
  ok: boolean;
  /** The token came in the query: the response should set the cookie so assets load. */
  fromQuery: boolean;
}

/** Accepts the token from `?token=` or from the port's cookie. */
export function checkToken(req: IncomingMessage, url: URL, token: string, port: number): TokenCheck {
  const fromQuery = sameToken(url.searchParams.get('token'), token);
  if (fromQuery) return { ok: true, fromQuery };
  return { ok: sameToken(parseCookies(req.headers.cookie).get(tokenCookieName(port)), token), fromQuery: false };
}

export function tokenCookie(token: string, port: number): string {
  return `${tokenCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Whether a WebSocket upgrade's Origin is this server's own page. Browsers always send Origin on
 * WebSocket requests, so a page from elsewhere is refused even if it somehow had the cookie.
 * Non-browser clients send none; they still need the token.
 */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined, boundHost: string, port: number): boolean {
  if (origin === undefined) return true;
  const names = new Set([...LOOPBACK_NAMES, hostForUrl(boundHost)]);
  const allowed = new Set([...names].map((name) => `http://${name}:${port}`));
  // Bound to every interface: the page may come through any of the machine's addresses, but then
  // the Origin must at least be the address the request itself was sent to.
  if (WILDCARD_HOSTS.has(boundHost) && hostHeader) allowed.add(`http://${hostHeader}`);
  return allowed.has(origin);
}

/** The host to print in the URL: wildcard binds are reached through loopback. */
export function displayHost(boundHost: string): string {
  return WILDCARD_HOSTS.has(boundHost) ? '127.0.0.1' : hostForUrl(boundHost);
}
