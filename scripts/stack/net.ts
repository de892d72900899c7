import { get as httpGetRaw } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(value: string): HostPort {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (!match?.[1] || !match[2]) throw new Error(`${value} is not host:port`);
  return { host: match[1], port: Number(match[2]) };
}

/** Host and port of a URL, with the scheme's default port filled in. Never returns credentials. */
export function urlHostPort(url: string, defaultPort: number): HostPort {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return { host, port: parsed.port ? Number(parsed.port) : defaultPort };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// The stack only ever starts servers on this machine; anything else is someone else's server to check.
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function tcpAnswers({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * undefined when nothing answers; any HTTP answer, whatever its status, is returned. Uses node:http without an
 * agent rather than fetch, whose pooled keep-alive sockets would hold a jest process open after `up`.
 */
export function httpGet(url: string, timeoutMs = 2000): Promise<HttpAnswer | undefined> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? httpsGet : httpGetRaw;
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 65_536) body += chunk;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', () => resolve(undefined));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
